//! The evaluation channels that find a record for the evaluator (issue 6 §2, R5.1): a window's fixed QR code
//! (mobile number, then a one-time code by SMS, then that number's records at the window), the kiosk (record
//! number and ID number), and the hall device (评价器) that shows the record its window just completed.
//!
//! Each of them ends the same way: a fresh evaluation link for the record, opened with the channel marked,
//! so the evaluation itself goes through the one evaluation page and the one writer.

use std::net::IpAddr;
use std::time::Duration;

use hcp_domain::identity::{IdNumber, Mobile};
use hcp_store::{DeviceRow, NewMessage, NewWindowLogin, RecordRow, WindowRow};
use rand::Rng;
use serde_json::json;

use crate::audit::Actor;
use crate::keys::{id_number_index, mobile_index};
use crate::{App, AppError, AppResult, secrets};

/// How long a one-time code holds, how many wrong tries it takes, and how many codes a number may ask for
/// in an hour (each is a text message the county pays for).
pub const CODE_MINUTES: i64 = 10;
pub const CODE_ATTEMPTS: i64 = 5;
pub const CODES_PER_HOUR: i64 = 5;

/// How far back a hall device looks for a just-completed record.
pub const DEVICE_LOOKBACK_MINUTES: i64 = 10;

/// A record waiting for a rating, with a fresh link to rate it.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub record: RecordRow,
    pub token: String,
}

fn window_not_found(code: &str) -> AppError {
    AppError::not_found("window_not_found", format!("窗口“{code}”不存在。请核对二维码,或咨询窗口工作人员。"))
}

fn device_not_found() -> AppError {
    AppError::not_found("device_not_found", "评价器地址无效或已停用。请联系政务服务中心管理员重新登记。")
}

impl App {
    /// The window a fixed QR code names.
    pub async fn window(&self, code: &str) -> AppResult<WindowRow> {
        self.store.window_by_code(code).await?.ok_or_else(|| window_not_found(code))
    }

    /// A fresh evaluation link for a record found by a channel (the token is shown once, only its hash kept).
    async fn invite(
        &self,
        record: RecordRow,
        actor: &Actor,
        channel: &str,
        device_code: Option<&str>,
    ) -> AppResult<Waiting> {
        let token = secrets::new_token();
        let audit =
            self.audit(actor, "record.invite", format!("service_record:{}", record.id), json!({ "channel": channel }));
        self.store.insert_invite(record.id, &secrets::hash(&token), self.now(), device_code, &audit).await?;
        Ok(Waiting { record, token })
    }

    /// Step one of the fixed QR code: the applicant gives a mobile number; a one-time code goes out by SMS
    /// when that number has records waiting at this window. The answer is the same either way (a handle for
    /// step two), so the page tells nobody whether a number has business here. `window` is from
    /// [`App::window`], which the page has already called to draw itself.
    pub async fn request_window_code(&self, ip: IpAddr, window: &WindowRow, mobile: &str) -> AppResult<String> {
        if self.guesses_blocked(ip).await? {
            return Err(too_many());
        }
        let mobile = Mobile::parse("mobile", mobile)?;
        let now = self.now();
        let idx = mobile_index(&self.keys.current(), mobile.as_str());
        let waiting = self.store.waiting_at_window_for_mobile(&idx, window.id, now).await?;
        let handle = secrets::new_token();
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
        // The message goes to the evaluator of the newest waiting record: the outbox keeps record ids, not
        // mobile numbers, and the gateway decrypts the number only when it sends.
        // The code itself is sealed in the outbox and filled in only when the message is sent.
        let message = waiting.first().map(|r| NewMessage {
            recipient_kind: "evaluator",
            recipient: r.id.to_string(),
            recipient_key_id: None,
            template: "window_code",
            body: format!(
                "您在{}的评价验证码为 {},{CODE_MINUTES} 分钟内有效。请勿告诉他人。",
                window.name,
                crate::outbox::SECRET
            ),
            secret: Some(self.keys.seal_secret("window_code", &r.id.to_string(), &code)),
            case_id: None,
            at: now,
        });
        let login = NewWindowLogin {
            handle_hash: &secrets::hash(&handle),
            window_id: window.id,
            mobile_idx: &idx,
            code_hash: &code_hash(&handle, &code),
            at: now,
            expires_at: now + chrono::Duration::minutes(CODE_MINUTES),
        };
        if !self.store.insert_window_login(&login, message, CODES_PER_HOUR, now - chrono::Duration::hours(1)).await? {
            return Err(AppError::TooMany {
                code: "too_many_codes",
                message: "该手机号在一小时内获取验证码次数过多,请稍后再试,或请窗口工作人员协助评价。".into(),
            });
        }
        Ok(handle)
    }

    /// Step two: the code checks out → the number's records at this window waiting for a rating, each with a
    /// fresh link. A code works once, for [`CODE_MINUTES`], with at most [`CODE_ATTEMPTS`] wrong tries.
    pub async fn verify_window_code(
        &self,
        ip: IpAddr,
        window: &WindowRow,
        handle: &str,
        code: &str,
    ) -> AppResult<Vec<Waiting>> {
        if self.guesses_blocked(ip).await? {
            return Err(too_many());
        }
        let now = self.now();
        let expired = || AppError::Gone {
            code: "code_expired",
            message: "验证码已失效(超过有效期、已使用或错误次数过多),请重新获取。".into(),
            details: Default::default(),
        };
        let login = match self.store.window_login(&secrets::hash(handle)).await? {
            Some(l) if l.window_id == window.id => l,
            _ => {
                self.guess_failed(ip).await?;
                return Err(expired());
            }
        };
        if login.used_at.is_some() || login.expires_at <= now || login.attempts >= CODE_ATTEMPTS {
            return Err(expired());
        }
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::invalid("code", "code_format", "请输入短信中的 6 位数字验证码。"));
        }
        // The try is counted before the code is compared, so parallel guesses share the same few tries.
        let Some(tries) = self.store.take_window_code_try(login.id, CODE_ATTEMPTS).await? else {
            return Err(expired());
        };
        if !secrets::same(code_hash(handle, code).as_bytes(), login.code_hash.as_bytes()) {
            self.guess_failed(ip).await?;
            let left = CODE_ATTEMPTS - tries;
            return Err(AppError::invalid(
                "code",
                "code_wrong",
                if left > 0 {
                    format!("验证码不正确,还可以再试 {left} 次。")
                } else {
                    "验证码不正确,请重新获取。".into()
                },
            ));
        }
        if !self.store.use_window_login(login.id, now).await? {
            return Err(expired());
        }
        let actor = Actor::channel(format!("window:{}", window.code));
        let mut out = Vec::new();
        for r in self.store.waiting_at_window_for_mobile(&login.mobile_idx, window.id, now).await? {
            out.push(self.invite(r, &actor, "qr_code", None).await?);
        }
        Ok(out)
    }

    /// The kiosk: a record found by its number and the applicant's ID number, waiting for a rating. Anything
    /// that does not match reads the same ("not found"), and failures count against the address.
    pub async fn kiosk_lookup(&self, ip: IpAddr, record_number: &str, id_number: &str) -> AppResult<Waiting> {
        if self.guesses_blocked(ip).await? {
            return Err(too_many());
        }
        let number = record_number.trim();
        if number.is_empty() {
            return Err(AppError::invalid("record_number", "required", "请输入办件编号(见受理回执或办结通知)。"));
        }
        let id = IdNumber::parse("id_number", id_number)?;
        let idx = id_number_index(&self.keys.current(), id.as_str());
        let found = self
            .store
            .records_by_number_any_source(number, 10)
            .await?
            .into_iter()
            .find(|r| secrets::same(r.applicant_id_number_idx.as_bytes(), idx.as_bytes()));
        let Some(record) = found else {
            self.guess_failed(ip).await?;
            return Err(AppError::not_found(
                "record_not_found",
                "没有找到该办件。请核对办件编号和身份证号码(须为办事时登记的证件)。",
            ));
        };
        if let Some(refusal) = self.evaluation_refusal(&record) {
            return Err(refusal);
        }
        self.invite(record, &Actor::channel("kiosk"), "kiosk", None).await
    }

    /// Registers a hall device bound to a window; returns the device and its secret (shown once: the address
    /// the device opens is `/d/{secret}`).
    pub async fn register_device(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        window_code: &str,
    ) -> AppResult<(DeviceRow, String)> {
        let code = code.trim();
        if code.is_empty() || code.chars().count() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(AppError::invalid("code", "device_code", "设备编号须为 1–32 位字母、数字或连字符。"));
        }
        let name = hcp_domain::identity::parse_text("name", name, 50, "设备名称")?;
        let window = self.window(window_code.trim()).await?;
        let secret = secrets::new_token();
        let audit = self.audit(actor, "device.register", "", json!({ "code": code, "window": window.code }));
        if self
            .store
            .insert_device(code, &name, window.id, &secrets::hash(&secret), self.now(), &audit)
            .await?
            .is_none()
        {
            return Err(AppError::conflict("device_code_taken", format!("设备编号“{code}”已被使用。")));
        }
        let device = self.store.device_by_token_hash(&secrets::hash(&secret)).await?.ok_or_else(device_not_found)?;
        Ok((device, secret))
    }

    pub async fn revoke_device(&self, actor: &Actor, code: &str) -> AppResult<()> {
        let audit = self.audit(actor, "device.revoke", "", json!({ "code": code }));
        if self.store.revoke_device(code, self.now(), &audit).await? {
            Ok(())
        } else {
            Err(AppError::not_found("device_not_found", format!("设备“{code}”不存在或已停用。")))
        }
    }

    /// The device behind a device page's secret.
    pub async fn device(&self, secret: &str) -> AppResult<DeviceRow> {
        if !secrets::looks_like_token(secret) {
            return Err(device_not_found());
        }
        self.store.device_by_token_hash(&secrets::hash(secret)).await?.ok_or_else(device_not_found)
    }

    /// The long poll of a hall device: waits up to `wait` for a record its window completes (newer than
    /// record `after`, completed in the last [`DEVICE_LOOKBACK_MINUTES`], not yet rated) and returns it with a
    /// fresh link. Woken at once by completions of any instance (see [`App::completed`]); looks now and then
    /// anyway ([`App::device_look_every`]).
    pub async fn device_next(&self, secret: &str, after: i64, wait: Duration) -> AppResult<Option<Waiting>> {
        let device = self.device(secret).await?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a completion between the look and the wait is not missed.
            let woken = self.completions.notified();
            let since = self.now() - chrono::Duration::minutes(DEVICE_LOOKBACK_MINUTES);
            if let Some(r) = self.store.newest_waiting_at_window(device.window_id, since, after).await? {
                let actor = Actor::channel(format!("device:{}", device.code));
                return self.invite(r, &actor, "hall_device", Some(&device.code)).await.map(Some);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let pause = (deadline - now).min(self.device_look_every);
            let _ = tokio::time::timeout(pause, woken).await;
        }
    }
}

fn code_hash(handle: &str, code: &str) -> String {
    secrets::hash(&format!("{handle}:{code}"))
}

fn too_many() -> AppError {
    AppError::TooMany {
        code: "too_many_attempts",
        message: "尝试次数过多,请 10 分钟后再试,或请窗口工作人员协助。".into(),
    }
}

//! A mock of the upper-level (provincial) 好差评 system: real HTTP on 127.0.0.1, opening each envelope with
//! its SM2 private key, checking the sign, the order and the types, storing each item once by key, and
//! misbehaving on request (slow answers, dropped connections, 5xx, non-JSON, rejections, restarts).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use hcp_crypto::Sm2SecretKey;
use serde_json::{Value, json};

pub const APP_MARK: &str = "HCP-QS-TEST";
pub const APP_WORD: &str = "s3cret-app-word";

#[derive(Debug, Clone)]
pub enum Fault {
    /// Store the items, then answer after this long (longer than the client waits: the reply is lost).
    Slow(Duration),
    /// Drop the connection before reading the items.
    Drop,
    /// Store the items, then drop the connection (the sender cannot know they arrived).
    DropAfterStore,
    Status500,
    NotJson,
}

#[derive(Default)]
pub struct Books {
    /// Every item stored, by "kind key" (e.g. "service QS-1#1"), as it first arrived.
    pub stored: HashMap<String, Value>,
    /// Keys in the order they were first stored.
    pub arrivals: Vec<String>,
    /// Items sent again after they were stored (answered 409).
    pub duplicates: usize,
    /// Anything the sender did against the contract.
    pub violations: Vec<String>,
    pub faults: VecDeque<Fault>,
    /// projectNos whose service item is refused (400) while listed.
    pub reject: HashSet<String>,
    pub requests: usize,
    /// Evaluations made on the province's channels, served by `evaluation-query` two at a time.
    pub provincial: Vec<Value>,
    /// The county's public key, which the province encrypts what it sends back with.
    pub county_key: Option<hcp_crypto::Sm2PublicKey>,
    /// The `since` of every query, in order.
    pub queries: Vec<String>,
    /// Every answer to a push waits this long (a slow but working upper level).
    pub delay: Duration,
    /// `evaluation-query` answers with this many bytes, streamed without a length (a hostile upper level).
    pub huge_reply: Option<usize>,
    /// Every reply carries an SM2 signature of its body by this key in the `Sign` header (an upper level that
    /// signs its replies).
    pub sign_with: Option<Sm2SecretKey>,
}

pub struct UpperLevel {
    pub url: String,
    pub public_key: String,
    pub books: Arc<Mutex<Books>>,
    addr: std::net::SocketAddr,
    secret: Sm2SecretKey,
    task: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Clone)]
struct Shared {
    books: Arc<Mutex<Books>>,
    secret: Sm2SecretKey,
}

impl UpperLevel {
    pub async fn start() -> UpperLevel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let secret = Sm2SecretKey::generate();
        let mut mock = UpperLevel {
            url: format!("http://{addr}/hcp"),
            public_key: secret.public_key().to_hex(),
            books: Arc::default(),
            addr,
            secret,
            task: None,
        };
        mock.serve(listener);
        mock
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let shared = Shared { books: self.books.clone(), secret: self.secret.clone() };
        let router = axum::Router::new()
            .route("/hcp/{kind}", axum::routing::post(handle))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), sign_reply))
            .with_state(shared);
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }

    /// The upper level goes away (connections refused) until [`UpperLevel::restart`].
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    /// Back on the same address, with everything it stored.
    pub async fn restart(&mut self) {
        self.stop();
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = e;
                }
                Err(e) => panic!("rebinding the mock: {e}"),
            }
        };
        self.serve(listener);
    }

    pub fn config(&self) -> hcp_app::exchange::UpstreamConfig {
        hcp_app::exchange::UpstreamConfig {
            url: self.url.clone(),
            app_mark: APP_MARK.into(),
            app_word: APP_WORD.into(),
            public_key: hcp_crypto::Sm2PublicKey::from_hex(&self.public_key).unwrap(),
            data_source: "165".into(),
            area_code: Some("510899000000".into()),
            timeout: Duration::from_millis(800),
            retry_max: Duration::from_secs(1),
            pull_every: Duration::from_secs(300),
            county_key: None,
            reply_key: None,
        }
    }

    pub fn stored(&self, key: &str) -> Option<Value> {
        self.books.lock().unwrap().stored.get(key).cloned()
    }
}

fn key_of(kind: &str, item: &Value) -> Option<String> {
    let p = item["projectNo"].as_str()?;
    Some(match kind {
        "service" => format!("service {p}#{}", item["serviceNumber"].as_i64()?),
        "evaluation" => format!("evaluation {p}#{}", item["assessNumber"].as_i64()?),
        _ => format!("update {p}#{}.{}", item["assessNumber"].as_i64()?, item["updateNumber"].as_i64()?),
    })
}

/// The contract's types: these fields are JSON integers, the rest strings.
fn check_types(kind: &str, item: &Value, violations: &mut Vec<String>) {
    let ints: &[&str] = match kind {
        "service" => &["serviceNumber", "proStatus", "userProp", "proChannel"],
        "evaluation" => &["serviceNumber", "assessNumber", "satisfaction", "pf"],
        _ => &["assessNumber", "updateNumber", "effectivEvalua"],
    };
    for (k, v) in item.as_object().into_iter().flatten() {
        let ok = if ints.contains(&k.as_str()) || k == "defaultEvaluation" { v.is_i64() } else { v.is_string() };
        if !ok {
            violations.push(format!("{kind} field {k} has the wrong type: {v}"));
        }
    }
}

async fn handle(State(s): State<Shared>, Path(kind): Path<String>, body: String) -> Response {
    let fault = {
        let mut b = s.books.lock().unwrap();
        b.requests += 1;
        b.faults.pop_front()
    };
    match fault {
        Some(Fault::Drop) => panic!("the mock drops this connection (expected in the exchange tests)"),
        Some(Fault::Status500) => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "busy").into_response(),
        Some(Fault::NotJson) => return "<html>gateway</html>".into_response(),
        _ => {}
    }
    let env: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (Some(mark), Some(time), Some(sign), Some(params)) =
        (env["appMark"].as_str(), env["time"].as_str(), env["sign"].as_str(), env["params"].as_str())
    else {
        s.books.lock().unwrap().violations.push(format!("malformed envelope: {body:.200}"));
        return axum::Json(json!({ "code": "400", "message": "参数有误" })).into_response();
    };
    let sign_ok = s.secret.decrypt_hex(sign).ok().as_deref() == Some(format!("{time}{APP_MARK}{APP_WORD}").as_bytes());
    if mark != APP_MARK || !sign_ok || time.len() != 14 {
        return axum::Json(json!({ "code": "401", "message": "签名错误" })).into_response();
    }
    if sign != sign.to_lowercase() || params != params.to_lowercase() {
        s.books.lock().unwrap().violations.push("hex not in lower case".into());
    }
    if kind == "evaluation-query" {
        return query(&s, params);
    }
    let items: Vec<Value> = match s.secret.decrypt_hex(params).ok().and_then(|p| serde_json::from_slice(&p).ok()) {
        Some(items) => items,
        None => {
            s.books.lock().unwrap().violations.push("params do not open to a JSON array".into());
            return axum::Json(json!({ "code": "400", "message": "参数有误" })).into_response();
        }
    };
    let mut results = Vec::new();
    {
        let mut b = s.books.lock().unwrap();
        if items.is_empty() || items.len() > 100 {
            b.violations.push(format!("a batch of {} items", items.len()));
        }
        for item in &items {
            let Some(key) = key_of(&kind, item) else {
                b.violations.push(format!("{kind} item without its key: {item}"));
                continue;
            };
            let mut violations = Vec::new();
            check_types(&kind, item, &mut violations);
            b.violations.extend(violations);
            let project = item["projectNo"].as_str().unwrap_or_default().to_string();
            let before = match kind.as_str() {
                "evaluation" => Some(format!("service {project}#1")),
                "evaluation-update" => Some(format!("evaluation {project}#{}", item["assessNumber"])),
                _ => None,
            };
            let mut result = json!({ "projectNo": project });
            for k in ["serviceNumber", "assessNumber", "updateNumber"] {
                if let Some(v) = item.get(k) {
                    result[k] = v.clone();
                }
            }
            let (code, message) = if before.as_ref().is_some_and(|k| !b.stored.contains_key(k)) {
                b.violations.push(format!("{key} arrived before {}", before.unwrap()));
                ("400", "没有对应的服务数据".to_string())
            } else if kind == "service" && b.reject.contains(&project) {
                ("400", "deptCode 统一社会信用代码不能为空".to_string())
            } else if b.stored.contains_key(&key) {
                b.duplicates += 1;
                ("409", "评价数据不可重复".to_string())
            } else {
                b.stored.insert(key.clone(), item.clone());
                b.arrivals.push(key);
                ("200", "成功".to_string())
            };
            result["code"] = json!(code);
            result["message"] = json!(message);
            results.push(result);
        }
    }
    let delay = s.books.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    match fault {
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropAfterStore) => panic!("the mock drops this connection after storing (expected)"),
        _ => {}
    }
    axum::Json(json!({ "code": "200", "results": results })).into_response()
}

/// `evaluation-query`: what is new since the cursor (an index into the list), two items a page.
fn query(s: &Shared, params: &str) -> Response {
    let mut b = s.books.lock().unwrap();
    if let Some(bytes) = b.huge_reply {
        let chunk = axum::body::Bytes::from(vec![b'a'; 64 * 1024]);
        let head = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(axum::body::Bytes::from(r#"{"code":"200","data":""#))
        });
        let body = futures_util::stream::iter((0..bytes / chunk.len()).map(move |_| Ok(chunk.clone())));
        return axum::body::Body::from_stream(futures_util::StreamExt::chain(head, body)).into_response();
    }
    let Some(p) = s.secret.decrypt_hex(params).ok().and_then(|p| serde_json::from_slice::<Value>(&p).ok()) else {
        b.violations.push("query params do not open".into());
        return axum::Json(json!({ "code": "400" })).into_response();
    };
    let since = p["since"].as_str().unwrap_or("?").to_string();
    if p["areaCode"].as_str().map(str::len) != Some(12) {
        b.violations.push(format!("query without a 12-digit areaCode: {p}"));
    }
    b.queries.push(since.clone());
    let from: usize = since.parse().unwrap_or(0);
    let page: Vec<Value> = b.provincial.iter().skip(from).take(2).cloned().collect();
    let next = (from + page.len()).to_string();
    let data = if page.is_empty() {
        String::new()
    } else {
        let key = b.county_key.clone().expect("the county's key given to the mock");
        key.encrypt_hex(serde_json::to_string(&page).unwrap().as_bytes()).unwrap()
    };
    axum::Json(json!({ "code": "200", "data": data, "next": next })).into_response()
}

/// Signs every reply's body when the books say so.
async fn sign_reply(State(s): State<Shared>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let Some(key) = s.books.lock().unwrap().sign_with.clone() else { return res };
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.insert("sign", key.sign_hex(&bytes).parse().unwrap());
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

//! Validated newtypes for who an applicant is: parse once at the boundary, then trust the type.
//!
//! Lengths count Chinese characters (`chars`), not bytes.

use chrono::NaiveDate;

use crate::{ApplicantKind, Violation};

/// Trims and checks a free text: not empty, at most `max` characters, no control characters.
pub fn parse_text(field: &str, raw: &str, max: usize, what: &str) -> Result<String, Violation> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Violation::new(field, "required", format!("请填写{what}。")));
    }
    if t.chars().count() > max {
        return Err(Violation::new(field, "too_long", format!("{what}不能超过 {max} 个字。")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Violation::new(field, "invalid_characters", format!("{what}含有不可见的控制字符。")));
    }
    Ok(t.to_string())
}

/// A real name of a person, an enterprise or an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantName(String);

impl ApplicantName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let t = parse_text(field, raw, Self::MAX_CHARS, "申请人姓名或名称")?;
        if t.contains('\n') {
            return Err(Violation::new(field, "invalid_characters", "申请人姓名或名称不能换行。"));
        }
        Ok(ApplicantName(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 张*, 欧阳** — the first character and a star for each other one.
    pub fn masked(&self) -> String {
        let mut chars = self.0.chars();
        let first = chars.next().map(String::from).unwrap_or_default();
        first + &"*".repeat(chars.count())
    }
}

/// A resident identity card number (GB 11643-1999): 17 digits, a valid birth date, and the check character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let s = raw.trim().to_ascii_uppercase();
        let bad = |msg: &str| Violation::new(field, "invalid_id_number", msg.to_string());
        if s.len() != 18 || !s[..17].bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("身份证号码应为 18 位:前 17 位是数字,最后一位是数字或 X。"));
        }
        let y: i32 = s[6..10].parse().map_err(|_| bad("身份证号码中的出生日期不正确。"))?;
        let m: u32 = s[10..12].parse().map_err(|_| bad("身份证号码中的出生日期不正确。"))?;
        let d: u32 = s[12..14].parse().map_err(|_| bad("身份证号码中的出生日期不正确。"))?;
        if y < 1900 || NaiveDate::from_ymd_opt(y, m, d).is_none() {
            return Err(bad("身份证号码中的出生日期不正确。"));
        }
        if s.as_bytes()[17] != Self::check_char(&s[..17]) {
            return Err(bad("身份证号码校验位不正确,请核对后重新输入。"));
        }
        Ok(IdNumber(s))
    }

    /// The GB 11643 check character of the first 17 digits.
    pub fn check_char(first17: &str) -> u8 {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = first17.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
        b"10X98765432"[(sum % 11) as usize]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 5108**********1234
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }
}

/// A unified social credit code (GB 32100-2015) of an enterprise or organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

impl CreditCode {
    const ALPHABET: &'static [u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let s = raw.trim().to_ascii_uppercase();
        let bad = |msg: &str| Violation::new(field, "invalid_credit_code", msg.to_string());
        if s.len() != 18 || !s.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err(bad("统一社会信用代码应为 18 位数字或大写字母(不含 I、O、Z、S、V)。"));
        }
        if s.as_bytes()[17] != Self::check_char(&s[..17]) {
            return Err(bad("统一社会信用代码校验位不正确,请核对后重新输入。"));
        }
        Ok(CreditCode(s))
    }

    /// The GB 32100 check character of the first 17 characters (which must be in the alphabet).
    pub fn check_char(first17: &str) -> u8 {
        const W: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
        let sum: usize =
            first17.bytes().zip(W).map(|(b, w)| Self::ALPHABET.iter().position(|a| *a == b).unwrap_or(0) * w).sum();
        Self::ALPHABET[(31 - sum % 31) % 31]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }
}

/// A mainland China mobile number: 11 digits starting 13–19 (an optional +86 is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let s = compact.strip_prefix("+86").unwrap_or(&compact);
        let b = s.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || b[1] < b'3' {
            return Err(Violation::new(field, "invalid_mobile", "手机号码应为 11 位中国大陆手机号,以 13 至 19 开头。"));
        }
        Ok(Mobile(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 138****5678
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// The 12345 hotline's ticket (工单编号) of a call: the evidence behind a hotline agent's reveal or recorded
/// evaluation (issue 14 §1, §4). Ticket formats differ between hotline systems, so only the shape is checked:
/// 6–40 ASCII letters, digits or `-`, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketNumber(String);

impl TicketNumber {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Violation> {
        let s = raw.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(Violation::new(field, "ticket_required", "请填写本次来电的12345工单编号。"));
        }
        if !(6..=40).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(Violation::new(
                field,
                "invalid_ticket_number",
                "12345工单编号应为 6–40 位字母、数字或“-”,请按热线系统中的编号填写。",
            ));
        }
        Ok(TicketNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An applicant's identifying number: an ID number for a person, a credit code otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplicantIdNumber {
    Person(IdNumber),
    Entity(CreditCode),
}

impl ApplicantIdNumber {
    pub fn parse(field: &str, kind: ApplicantKind, raw: &str) -> Result<Self, Violation> {
        match kind {
            ApplicantKind::Person => IdNumber::parse(field, raw).map(ApplicantIdNumber::Person),
            ApplicantKind::Enterprise | ApplicantKind::Organization => {
                CreditCode::parse(field, raw).map(ApplicantIdNumber::Entity)
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ApplicantIdNumber::Person(n) => n.as_str(),
            ApplicantIdNumber::Entity(c) => c.as_str(),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            ApplicantIdNumber::Person(n) => n.masked(),
            ApplicantIdNumber::Entity(c) => c.masked(),
        }
    }
}

/// The applicant of a service record, all three facts validated (R2.1, R11.1 real name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub kind: ApplicantKind,
    pub name: ApplicantName,
    pub id_number: ApplicantIdNumber,
    pub mobile: Mobile,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_check_digit_gb11643() {
        // A textbook example: 11010519491231002X.
        assert!(IdNumber::parse("f", "11010519491231002X").is_ok());
        assert!(IdNumber::parse("f", "11010519491231002x").is_ok());
        let e = IdNumber::parse("f", "110105194912310021").unwrap_err();
        assert_eq!(e.code, "invalid_id_number");
        assert!(e.message.contains("校验位"));
        assert!(IdNumber::parse("f", "110105194913310028").is_err(), "month 13");
        assert!(IdNumber::parse("f", "1101051949123100").is_err(), "too short");
    }

    #[test]
    fn credit_code_check_character_gb32100() {
        // The example code of GB 32100-2015's annex.
        assert!(CreditCode::parse("f", "91350100M000100Y43").is_ok());
        assert_eq!(CreditCode::parse("f", "91350100M000100Y44").unwrap_err().code, "invalid_credit_code");
        assert!(CreditCode::parse("f", "91350100M000100I43").is_err(), "I is not in the alphabet");
    }

    #[test]
    fn mobile_is_mainland() {
        assert_eq!(Mobile::parse("m", "+86 138-0013-8000").unwrap().as_str(), "13800138000");
        assert!(Mobile::parse("m", "12800138000").is_err());
        assert!(Mobile::parse("m", "1380013800").is_err());
        assert!(Mobile::parse("m", "02881234567").is_err());
        assert_eq!(Mobile::parse("m", "13812345678").unwrap().masked(), "138****5678");
    }

    #[test]
    fn masks() {
        assert_eq!(ApplicantName::parse("n", "欧阳娜娜").unwrap().masked(), "欧***");
        assert_eq!(IdNumber::parse("f", "11010519491231002X").unwrap().masked(), "1101**********002X");
    }

    proptest::proptest! {
        /// Masks keep the ends a person needs to recognise a record and hide the middle.
        #[test]
        fn masks_hide_the_middle(digits in "1[3-9][0-9]{9}", name in "[\u{4e00}-\u{9fa5}]{1,5}", y in 1940i32..2010, m in 1u32..13, d in 1u32..29, seq in 0u32..1000) {
            let mobile = Mobile::parse("m", &digits).unwrap();
            let masked = mobile.masked();
            proptest::prop_assert_eq!(&masked[..3], &digits[..3]);
            proptest::prop_assert_eq!(&masked[7..], &digits[7..]);
            proptest::prop_assert_eq!(&masked[3..7], "****");

            let n = ApplicantName::parse("n", &name).unwrap().masked();
            proptest::prop_assert_eq!(n.chars().count(), name.chars().count());
            proptest::prop_assert_eq!(n.chars().next(), name.chars().next());
            proptest::prop_assert!(n.chars().skip(1).all(|c| c == '*'));

            let first = format!("510824{y:04}{m:02}{d:02}{seq:03}");
            let id = format!("{first}{}", IdNumber::check_char(&first) as char);
            let masked = IdNumber::parse("i", &id).unwrap().masked();
            proptest::prop_assert_eq!(masked.len(), 18);
            proptest::prop_assert!(!masked.contains(&id[6..14]), "the birth date is hidden");
            proptest::prop_assert_eq!(&masked[14..], &id[14..]);
        }
    }

    #[test]
    fn name_counts_chars_not_bytes() {
        let hundred: String = "张".repeat(100);
        assert!(ApplicantName::parse("n", &hundred).is_ok());
        assert_eq!(ApplicantName::parse("n", &(hundred + "张")).unwrap_err().code, "too_long");
        assert_eq!(ApplicantName::parse("n", "  ").unwrap_err().code, "required");
    }

    #[test]
    fn ticket_numbers_by_shape() {
        assert_eq!(TicketNumber::parse("t", " gd-20261129-0012 ").unwrap().as_str(), "GD-20261129-0012");
        assert_eq!(TicketNumber::parse("t", "").unwrap_err().code, "ticket_required");
        assert_eq!(TicketNumber::parse("t", "12345").unwrap_err().code, "invalid_ticket_number");
        assert_eq!(TicketNumber::parse("t", "工单2026112900").unwrap_err().code, "invalid_ticket_number");
        assert_eq!(TicketNumber::parse("t", &"1".repeat(41)).unwrap_err().code, "invalid_ticket_number");
    }
}

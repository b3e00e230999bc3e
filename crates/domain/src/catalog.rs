//! Kinds that classify the catalog and the records (R3, R4, R5): each with its stable code and Chinese name.

use serde::{Deserialize, Serialize};

/// Declares a closed set of codes with their Chinese names, parsed from and written as snake_case strings.
macro_rules! coded_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }

            /// The codes, for error messages that list what is allowed.
            pub fn codes() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// Where an evaluation came from (R5.1). `provincial` is an evaluation received from the province.
    Channel {
        Web = "web", "网页";
        App = "app", "移动端";
        HallDevice = "hall_device", "评价器";
        QrCode = "qr_code", "二维码";
        Kiosk = "kiosk", "自助服务终端";
        Hotline = "hotline", "12345热线";
        Sms = "sms", "短信";
        Provincial = "provincial", "省平台";
        System = "system", "系统默认";
    }
}

impl Channel {
    /// Channels through which an evaluator rates with an evaluation link, without an agent in between.
    /// The hotline needs an agent's account, `provincial` comes from the exchange, `system` marks defaults.
    pub fn is_self_service(self) -> bool {
        !matches!(self, Channel::Hotline | Channel::Provincial | Channel::System)
    }
}

coded_enum! {
    /// Service categories of R4.1.
    Category {
        Licensing = "licensing", "行政许可";
        Payment = "payment", "行政给付";
        Confirmation = "confirmation", "行政确认";
        Adjudication = "adjudication", "行政裁决";
        Reward = "reward", "行政奖励";
        OtherPower = "other_power", "其他行政权力";
        PublicService = "public_service", "公共服务事项";
        Hotline = "hotline", "12345热线办理事项";
    }
}

impl Category {
    /// The name people use in their spreadsheets (公共服务 for 公共服务事项): the template's 说明 sheet lists it.
    pub fn short_zh(self) -> &'static str {
        match self {
            Category::OtherPower => "其他权力",
            Category::PublicService => "公共服务",
            Category::Hotline => "12345热线",
            other => other.name_zh(),
        }
    }

    /// A category as a clerk types it: its code, its full name or its short name (spaces ignored).
    pub fn from_text(raw: &str) -> Option<Category> {
        let t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        Category::ALL.iter().copied().find(|c| {
            c.as_str().eq_ignore_ascii_case(&t)
                || c.name_zh() == t
                || c.short_zh() == t
                || (t == "热线" && *c == Category::Hotline)
        })
    }
}

coded_enum! {
    /// Who applied (R2.1).
    ApplicantKind {
        Person = "person", "个人";
        Enterprise = "enterprise", "企业";
        Organization = "organization", "组织";
    }
}

coded_enum! {
    /// Nodes of the organization tree (R3.1) and county departments (R3.3).
    OrgKind {
        County = "county", "县";
        City = "city", "市";
        Township = "township", "乡镇";
        Village = "village", "村";
        Community = "community", "社区";
        Department = "department", "部门";
    }
}

impl OrgKind {
    /// Whether an organization of this kind may stand at the top of a tree (a county, or a city that runs
    /// several counties): the only kinds `hcp init` and a first catalog import accept without a parent.
    pub fn may_be_top_level(self) -> bool {
        matches!(self, OrgKind::County | OrgKind::City)
    }
}

coded_enum! {
    /// A physical place with windows.
    HallKind {
        Hall = "hall", "政务服务大厅";
        ServiceCenter = "service_center", "便民服务中心";
        ServicePoint = "service_point", "便民服务点";
    }
}

coded_enum! {
    /// A service counter: comprehensive (综合窗口) or department-specific (部门专窗).
    WindowKind {
        Comprehensive = "comprehensive", "综合窗口";
        Department = "department", "部门专窗";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_by_code_full_or_short_name() {
        for c in Category::ALL {
            assert_eq!(Category::from_text(c.as_str()), Some(*c));
            assert_eq!(Category::from_text(c.name_zh()), Some(*c));
            assert_eq!(Category::from_text(c.short_zh()), Some(*c));
        }
        assert_eq!(Category::from_text("公共服务"), Some(Category::PublicService));
        assert_eq!(Category::from_text(" 公共服务事项 "), Some(Category::PublicService));
        assert_eq!(Category::from_text("Licensing"), Some(Category::Licensing));
        assert_eq!(Category::from_text("行政"), None);
    }

    #[test]
    fn eight_categories_of_r4_1() {
        assert_eq!(Category::ALL.len(), 8);
        assert_eq!(Category::parse("hotline"), Some(Category::Hotline));
        assert_eq!(Category::Hotline.name_zh(), "12345热线办理事项");
    }

    #[test]
    fn channels_parse_and_only_some_are_self_service() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(*c));
        }
        assert!(Channel::QrCode.is_self_service());
        assert!(!Channel::Hotline.is_self_service());
        assert_eq!(Channel::parse("fax"), None);
    }
}

//! Pickers instead of typed codes (issue 17 §1): for the filter forms, the organizations (as a tree), windows,
//! staff and service items a person may choose from — limited to their scope, and narrowed by an organization
//! already chosen (its windows and staff only). The pages render them as `<datalist>`s, so a clerk types a
//! name or a code and picks; the form still sends the code, so links and bookmarks keep working without script.

use serde::Serialize;

use crate::policy::Principal;
use crate::{App, AppResult};

/// More than this many windows or staff members and the list would weigh down every page: the person is asked
/// to choose an organization first (which narrows them).
pub const MAX_CHOICES: usize = 1000;

/// One choice: what the form sends, and what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Pickers {
    /// In tree order, each label indented by its depth under the person's scope.
    pub orgs: Vec<Choice>,
    pub windows: Vec<Choice>,
    pub staff: Vec<Choice>,
    pub items: Vec<Choice>,
    /// Windows or staff were cut at [`MAX_CHOICES`]: choosing an organization narrows them.
    pub truncated: bool,
}

impl Pickers {
    /// The label of a chosen code, to show beside the field ("510899D01" → "县政务服务中心").
    pub fn label_of<'a>(list: &'a [Choice], code: &str) -> Option<&'a str> {
        list.iter().find(|c| c.code == code).map(|c| c.label.trim_start_matches('\u{3000}'))
    }

    /// What a clerk typed, as a code: the code itself; else the one choice named exactly so (the name before
    /// its "(机构)"); else the one choice whose label contains the text. `None` when nothing or several match,
    /// so the text is taken as typed (a code of a retired entry still finds its past evaluations). This is what
    /// makes "type the name and press Enter" work without script, where a `<datalist>` alone would send the name.
    pub fn resolve<'a>(list: &'a [Choice], typed: &str) -> Option<&'a str> {
        let typed = typed.trim();
        if typed.is_empty() {
            return None;
        }
        if let Some(c) = list.iter().find(|c| c.code == typed) {
            return Some(&c.code);
        }
        let name = |c: &Choice| {
            let label = c.label.trim_start_matches('\u{3000}');
            label.split('(').next().unwrap_or(label).trim().to_string()
        };
        let unique = |found: Vec<&'a Choice>| match found.as_slice() {
            [one] => Some(one.code.as_str()),
            _ => None,
        };
        unique(list.iter().filter(|c| name(c) == typed).collect())
            .or_else(|| unique(list.iter().filter(|c| c.label.contains(typed)).collect()))
    }
}

/// The subtrees a person's roles cover, without one inside another.
fn top_scopes(who: &Principal) -> Vec<String> {
    let mut paths: Vec<String> = who.bindings.iter().map(|b| b.org_path.clone()).collect();
    paths.sort();
    paths.dedup();
    let all = paths.clone();
    paths.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q.as_str())));
    paths
}

impl App {
    /// The organizations of the person's scope only, as a tree (the statistics pages pick no window).
    pub async fn org_choices(&self, who: &Principal) -> AppResult<Pickers> {
        let mut p = Pickers::default();
        let retired = self.store.retired_codes(hcp_store::CatalogTable::Org).await?;
        for scope in &top_scopes(who) {
            let mut orgs = self.store.list_orgs(scope).await?;
            orgs.retain(|o| !retired.contains(&o.code));
            let base = scope.matches('/').count();
            p.orgs.extend(orgs.into_iter().map(|o| {
                let depth = o.path.matches('/').count().saturating_sub(base);
                Choice { label: format!("{}{}", "\u{3000}".repeat(depth), o.name), code: o.code }
            }));
        }
        Ok(p)
    }

    /// The choices of the filter forms for this person; `org` (a code, or a name [`Pickers::resolve`] finds)
    /// narrows windows and staff when it lies in the person's scope.
    pub async fn pickers(&self, who: &Principal, org: Option<&str>) -> AppResult<Pickers> {
        let scopes = top_scopes(who);
        let mut p = self.org_choices(who).await?;
        let narrowed = match org.map(str::trim).filter(|c| !c.is_empty()) {
            Some(typed) => self
                .store
                .org_by_code(Pickers::resolve(&p.orgs, typed).unwrap_or(typed))
                .await?
                .map(|o| o.path)
                .filter(|path| scopes.iter().any(|s| path.starts_with(s.as_str()))),
            None => None,
        };
        let prefixes = narrowed.map_or(scopes.clone(), |p| vec![p]);
        // Retired windows, staff and items are gone from the choices (their past evaluations stay findable
        // by typing the code).
        let retired = self.retired().await?;
        for prefix in &prefixes {
            for w in self.store.list_windows(prefix).await? {
                if !retired.windows.contains(&w.code) {
                    p.windows.push(Choice { label: format!("{}({})", w.name, w.org_name), code: w.code });
                }
            }
            for s in self.store.list_staff(prefix).await? {
                if !retired.staff.contains(&s.staff_number) {
                    p.staff.push(Choice { label: format!("{}({})", s.name, s.org_name), code: s.staff_number });
                }
            }
        }
        p.truncated = p.windows.len() > MAX_CHOICES || p.staff.len() > MAX_CHOICES;
        p.windows.truncate(MAX_CHOICES);
        p.staff.truncate(MAX_CHOICES);
        if !scopes.is_empty() {
            p.items = self
                .store
                .list_items()
                .await?
                .into_iter()
                .filter(|i| !retired.items.contains(&i.code))
                .map(|i| Choice { code: i.code, label: i.name })
                .collect();
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Binding, Role};

    #[test]
    fn scopes_inside_others_are_dropped() {
        let b = |path: &str| Binding { role: Role::UnitAdmin, org_path: path.into(), org_name: String::new() };
        let who = Principal {
            user_id: 1,
            username: "u".into(),
            display_name: "u".into(),
            staff_id: None,
            bindings: vec![b("/1/5/"), b("/1/"), b("/2/"), b("/1/5/")],
        };
        assert_eq!(top_scopes(&who), ["/1/", "/2/"]);
    }

    #[test]
    fn labels_lose_their_indentation() {
        let list = vec![Choice { code: "510899101".into(), label: "\u{3000}\u{3000}青山镇".into() }];
        assert_eq!(Pickers::label_of(&list, "510899101"), Some("青山镇"));
        assert_eq!(Pickers::label_of(&list, "nope"), None);
    }

    #[test]
    fn a_typed_name_resolves_to_its_one_code() {
        let c = |code: &str, label: &str| Choice { code: code.into(), label: label.into() };
        let list = vec![
            c("W-1", "综合窗口1(县政务服务中心)"),
            c("W-10", "综合窗口10(县政务服务中心)"),
            c("W-2", "不动产窗口(青山镇)"),
            c("510899101", "\u{3000}青山镇"),
        ];
        assert_eq!(Pickers::resolve(&list, "W-10"), Some("W-10"), "a code is itself");
        assert_eq!(Pickers::resolve(&list, " 综合窗口1 "), Some("W-1"), "the exact name wins over a longer one");
        assert_eq!(Pickers::resolve(&list, "不动产"), Some("W-2"), "one label contains it");
        assert_eq!(Pickers::resolve(&list, "青山镇"), Some("510899101"), "indentation is not part of the name");
        assert_eq!(Pickers::resolve(&list, "综合窗口"), None, "several: taken as typed");
        assert_eq!(Pickers::resolve(&list, "W-9"), None, "nothing: taken as typed");
        assert_eq!(Pickers::resolve(&list, ""), None);
    }
}

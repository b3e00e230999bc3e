//! The filter forms' pickers (issue 17 §1): a text field bound to a `<datalist>` of the choices (typing a name
//! or a code finds it), with the chosen entry's name shown beside it. The form sends the code as before, so
//! every filter keeps working from the URL and without script.

use hcp_app::pickers::{Choice, Pickers};

use maud::{Markup, html};

/// The datalists of a page's pickers; each field names one by its id.
pub fn datalists(p: &Pickers) -> Markup {
    let list = |id: &str, choices: &[Choice]| {
        html! { datalist id=(id) { @for c in choices { option value=(c.code) { (c.label) } } } }
    };
    html! {
        (list("pick-org", &p.orgs))
        (list("pick-window", &p.windows))
        (list("pick-staff", &p.staff))
        (list("pick-item", &p.items))
        @if p.truncated { p.muted { "窗口或人员较多,请先选择机构以缩小范围。" } }
    }
}

/// Which list a field picks from.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    Org,
    Window,
    Staff,
    Item,
}

impl Pick {
    fn id(self) -> &'static str {
        match self {
            Pick::Org => "pick-org",
            Pick::Window => "pick-window",
            Pick::Staff => "pick-staff",
            Pick::Item => "pick-item",
        }
    }

    fn choices(self, p: &Pickers) -> &[Choice] {
        match self {
            Pick::Org => &p.orgs,
            Pick::Window => &p.windows,
            Pick::Staff => &p.staff,
            Pick::Item => &p.items,
        }
    }
}

/// A picker field: the code typed or chosen, and the name of what it names beside it.
pub fn field(p: &Pickers, pick: Pick, name: &str, label: &str, value: &str, required: bool) -> Markup {
    html! {
        label {
            (label) " "
            input name=(name) value=(value) list=(pick.id()) autocomplete="off" placeholder="输入名称或代码" size="14"
                required[required];
        }
        @if let Some(l) = Pickers::label_of(pick.choices(p), value.trim()) { " " small.muted { (l) } }
    }
}

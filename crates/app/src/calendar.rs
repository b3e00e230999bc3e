//! The working-day calendar in use: the bundled notices, plus notices imported later, plus the county's own
//! closures and openings (issue 3). Every instance reloads it from the database every minute, so an import on
//! one instance reaches the others.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use hcp_domain::Violation;
use hcp_domain::calendar::{Calendar, CalendarEntry, DayKind, business_date, parse_calendar_csv};
use hcp_store::CalendarDayRow;
use serde::Serialize;

use crate::{App, AppError, AppResult};

/// Where an imported file's days go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarSource {
    /// A State Council notice: replaces the years it covers.
    National,
    /// The county's own closures (holiday) and openings (workday), over the notice.
    Local,
}

impl CalendarSource {
    fn as_str(self) -> &'static str {
        match self {
            CalendarSource::National => "national",
            CalendarSource::Local => "local",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub years: Vec<i32>,
    pub holidays: usize,
    pub workdays: usize,
}

/// Something an operator must act on; shown in `/healthz`, the log, and (later) the center's home page.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

fn entry_of(row: &CalendarDayRow) -> Option<CalendarEntry> {
    Some(CalendarEntry {
        date: NaiveDate::parse_from_str(&row.day, "%Y-%m-%d").ok()?,
        kind: match row.kind.as_str() {
            "holiday" => DayKind::Holiday,
            "workday" => DayKind::Workday,
            _ => return None,
        },
        name: row.name.clone(),
    })
}

impl App {
    /// The calendar as it stands now (a snapshot; cheap).
    pub fn calendar(&self) -> Arc<Calendar> {
        self.calendar.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the calendar from the bundled notices and what the database holds.
    pub async fn reload_calendar(&self) -> AppResult<()> {
        let rows = self.store.calendar_days().await?;
        let mut cal = Calendar::bundled().with_close_of_day(self.close_of_day);
        let national: Vec<CalendarEntry> =
            rows.iter().filter(|r| r.source == "national").filter_map(entry_of).collect();
        cal.load(&national);
        let local: Vec<CalendarEntry> = rows.iter().filter(|r| r.source == "local").filter_map(entry_of).collect();
        cal.apply_local(&local);
        *self.calendar.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cal);
        Ok(())
    }

    /// Validates a calendar file (the format of `cn-holidays.csv`) and stores it; a bad file is refused whole
    /// with its line number and nothing changes.
    pub async fn import_calendar(&self, text: &str, source: CalendarSource) -> AppResult<ImportReport> {
        self.import_calendar_by(&crate::audit::Actor::operator(), text, source).await
    }

    /// The same, by a named actor (a center admin in the console).
    pub async fn import_calendar_by(
        &self,
        actor: &crate::audit::Actor,
        text: &str,
        source: CalendarSource,
    ) -> AppResult<ImportReport> {
        let entries = parse_calendar_csv(text).map_err(|e| {
            AppError::Invalid(vec![Violation::new(
                "file",
                "invalid_calendar",
                format!("日历文件有误,未导入任何内容。{e}"),
            )])
        })?;
        if entries.is_empty() {
            return Err(AppError::invalid("file", "empty_calendar", "日历文件中没有任何日期,未导入。"));
        }
        let years: BTreeSet<i32> = entries.iter().map(|e| e.date.year()).collect();
        let rows: Vec<CalendarDayRow> = entries
            .iter()
            .map(|e| CalendarDayRow {
                day: e.date.format("%Y-%m-%d").to_string(),
                kind: e.kind.as_str().to_string(),
                name: e.name.clone(),
                source: source.as_str().to_string(),
            })
            .collect();
        let years: Vec<i32> = years.into_iter().collect();
        let audit = self.audit(
            actor,
            "calendar.import",
            format!("calendar:{}", source.as_str()),
            serde_json::json!({ "years": years, "days": rows.len() }),
        );
        self.store.import_calendar(source.as_str(), &years, &rows, self.now(), &audit).await?;
        self.reload_calendar().await?;
        tracing::info!(?years, source = source.as_str(), days = rows.len(), "calendar imported");
        self.recompute_deadlines().await?;
        Ok(ImportReport {
            years,
            holidays: entries.iter().filter(|e| e.kind == DayKind::Holiday).count(),
            workdays: entries.iter().filter(|e| e.kind == DayKind::Workday).count(),
        })
    }

    /// What operators must act on now.
    pub fn warnings(&self) -> Vec<Warning> {
        self.warnings_on(business_date(self.now()))
    }

    /// What operators must act on, on the business date `today`.
    pub fn warnings_on(&self, today: NaiveDate) -> Vec<Warning> {
        let mut out = Vec::new();
        if let Some(year) = self.calendar().missing_next_year(today) {
            out.push(Warning {
                code: "calendar_next_year_missing",
                message: format!(
                    "尚未导入 {year} 年节假日安排:涉及 {year} 年的工作日期限暂按周一至周五计算(暂定)。\
                     国务院办公厅通知发布后,请用 `hcp calendar import 文件` 导入。"
                ),
            });
        }
        out
    }
}

//! The case and appeal state machines (issue 5 §6): the paths people take, the refusals they meet, and
//! random sequences that must never reach an inconsistent state.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hcp_domain::appeal::{Appeal, AppealContext, AppealRole, AppealState};
use hcp_domain::calendar::{Calendar, cst};
use hcp_domain::case::{Case, CaseRole, CaseState, CaseStep};
use proptest::prelude::*;

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    cst().with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().with_timezone(&Utc)
}

fn text(s: &str) -> String {
    s.to_string()
}

#[test]
fn the_1_5_15_path_with_follow_up() {
    let cal = Calendar::bundled();
    let mut c = Case::open();
    let t = at(2026, 9, 30, 10);
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 7, reason: None }).unwrap();
    let d = c.deadlines.unwrap();
    assert_eq!(d.contact.date, NaiveDate::from_ymd_opt(2026, 10, 8).unwrap(), "1 working day, across National Day");
    assert_eq!(d.rectify.date, NaiveDate::from_ymd_opt(2026, 10, 13).unwrap(), "5, counting the Saturday worked");
    assert_eq!(d.reply.date, NaiveDate::from_ymd_opt(2026, 10, 27).unwrap(), "15");
    c.apply(&cal, t, CaseRole::Unit, CaseStep::Contact { text: text("已电话联系") }).unwrap();
    c.apply(
        &cal,
        t,
        CaseRole::Unit,
        CaseStep::Finding { real_problem: true, long_term: false, text: text("材料清单漏列") },
    )
    .unwrap();
    assert_eq!(c.state, CaseState::Rectifying);
    let e = c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Close).unwrap_err();
    assert_eq!(e.code, "follow_up_first");
    c.apply(&cal, t, CaseRole::Unit, CaseStep::Rectified { text: text("已补充清单") }).unwrap();
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::FollowUp { solved: true, text: text("满意") }).unwrap();
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Close).unwrap();
    assert_eq!(c.state, CaseState::Closed);
    assert_eq!(c.inconsistency(), None);
    let e = c.apply(&cal, t, CaseRole::Unit, CaseStep::Contact { text: text("x") }).unwrap_err();
    assert_eq!(e.code, "case_closed");
}

#[test]
fn not_solved_goes_round_again_with_new_deadlines() {
    let cal = Calendar::bundled();
    let mut c = Case::open();
    c.apply(&cal, at(2026, 11, 2, 9), CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    c.apply(&cal, at(2026, 11, 2, 10), CaseRole::Unit, CaseStep::SolveOnSpot { text: text("当场补办") }).unwrap();
    let first = c.deadlines.unwrap();
    c.apply(
        &cal,
        at(2026, 11, 9, 10),
        CaseRole::HotlineCenter,
        CaseStep::FollowUp { solved: false, text: text("仍未解决") },
    )
    .unwrap();
    assert_eq!((c.state, c.round), (CaseState::Assigned, 2));
    assert!(c.deadlines.unwrap().contact.at > first.contact.at);
    c.apply(&cal, at(2026, 11, 9, 11), CaseRole::HotlineCenter, CaseStep::Escalate { reason: text("两轮未解决") })
        .unwrap();
    let e = c.apply(&cal, at(2026, 11, 9, 12), CaseRole::HotlineCenter, CaseStep::Close).unwrap_err();
    assert_eq!(e.code, "follow_up_first", "an escalated case is closed by the county office");
    c.apply(&cal, at(2026, 11, 10, 9), CaseRole::CountyOffice, CaseStep::Close).unwrap();
    assert_eq!(c.inconsistency(), None);
}

#[test]
fn refusals_say_why() {
    let cal = Calendar::bundled();
    let t = at(2026, 11, 2, 9);
    let mut c = Case::open();
    let e = c.apply(&cal, t, CaseRole::Unit, CaseStep::Assign { unit_id: 1, reason: None }).unwrap_err();
    assert_eq!(e.code, "step_not_allowed");
    assert!(e.message.contains("待交办"));
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 1, reason: None }).unwrap();
    let e = c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 2, reason: None }).unwrap_err();
    assert_eq!(e.code, "text_required", "reassigning needs a reason");
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 2, reason: Some(text("非本单位职责")) })
        .unwrap();
    assert_eq!(c.unit_id, Some(2));
    let e = c.apply(&cal, t, CaseRole::Unit, CaseStep::Contact { text: text("  ") }).unwrap_err();
    assert_eq!(e.code, "text_required");
    let before = c.clone();
    let _ = c.apply(&cal, t, CaseRole::Unit, CaseStep::Rectified { text: text("x") });
    assert_eq!(c, before, "a refused step changes nothing");
}

fn bad_review_at(t: DateTime<Utc>) -> AppealContext {
    AppealContext {
        evaluated_at: t,
        is_bad_review: true,
        served_by: Some(9),
        appellant: 9,
        appealed_before: false,
        appeal_days: 5,
        case_closed_at: None,
    }
}

#[test]
fn appeals_in_two_stages() {
    let cal = Calendar::bundled();
    let t = at(2026, 9, 30, 10);
    let mut a = Appeal::file(&cal, at(2026, 10, 12, 9), bad_review_at(t), "评价人所述与事实不符").unwrap();
    assert_eq!(a.state, AppealState::WithUnit);
    let e = a.decide(t, AppealRole::Center, true, "x").unwrap_err();
    assert_eq!(e.code, "step_not_allowed", "the center reviews only after the unit's check");
    a.decide(t, AppealRole::Unit, true, "初步核实属实").unwrap();
    a.decide(t, AppealRole::Center, true, "复核成立").unwrap();
    assert!(a.invalidates());
    assert_eq!(a.decisions.len(), 2, "both decisions go to the filing register");

    // A unit that does not support the appeal does not end it: the center decides (plan §八).
    let mut b = Appeal::file(&cal, t, bad_review_at(t), "理由").unwrap();
    b.decide(t, AppealRole::Unit, false, "核实不属实,不支持").unwrap();
    assert_eq!(b.state, AppealState::WithCenter);
    assert!(!b.invalidates());
    b.decide(t, AppealRole::Center, false, "复核不成立").unwrap();
    assert_eq!(b.state, AppealState::RejectedByCenter);
}

#[test]
fn who_and_when_may_appeal() {
    let cal = Calendar::bundled();
    let t = at(2026, 9, 30, 10);
    let ok = bad_review_at(t);
    let late = Appeal::file(&cal, at(2026, 10, 14, 9), ok, "x").unwrap_err();
    assert_eq!(late.code, "appeal_too_late", "5 working days after 30 Sep end on 13 Oct");
    assert!(late.message.contains("2026年10月13日"));
    assert_eq!(Appeal::file(&cal, t, AppealContext { appellant: 8, ..ok }, "x").unwrap_err().code, "not_your_review");
    assert_eq!(
        Appeal::file(&cal, t, AppealContext { appealed_before: true, ..ok }, "x").unwrap_err().code,
        "already_appealed"
    );
    assert_eq!(
        Appeal::file(&cal, t, AppealContext { is_bad_review: false, ..ok }, "x").unwrap_err().code,
        "not_a_bad_review"
    );
    assert_eq!(Appeal::file(&cal, t, ok, " ").unwrap_err().code, "text_required");
}

fn any_step() -> impl Strategy<Value = (CaseRole, CaseStep)> {
    let role = prop_oneof![
        Just(CaseRole::HotlineCenter),
        Just(CaseRole::Unit),
        Just(CaseRole::CountyOffice),
        Just(CaseRole::System)
    ];
    let words = prop_oneof![Just(String::new()), Just(text("说明"))];
    let step = (0u8..11, any::<bool>(), words, 1i64..4).prop_map(|(k, flag, t, unit)| match k {
        0 => CaseStep::Assign { unit_id: unit, reason: flag.then(|| t.clone()) },
        1 => CaseStep::SolveOnSpot { text: t },
        2 => CaseStep::Contact { text: t },
        3 => CaseStep::Finding { real_problem: unit != 1, long_term: flag, text: t },
        4 => CaseStep::Rectified { text: t },
        5 => CaseStep::PlanReplied { text: t },
        6 => CaseStep::FollowUp { solved: flag, text: t },
        7 => CaseStep::Escalate { reason: t },
        8 => CaseStep::Close,
        9 => CaseStep::ApprovePlan,
        _ => CaseStep::CloseAsAppealed,
    });
    (role, step)
}

proptest! {
    /// No sequence of attempted steps reaches an inconsistent case, and a closed case takes no more steps.
    #[test]
    fn no_sequence_breaks_a_case(steps in proptest::collection::vec(any_step(), 0..40)) {
        let cal = Calendar::bundled();
        let mut c = Case::open();
        let mut t = at(2026, 3, 2, 9);
        for (role, step) in steps {
            let was_closed = c.state.is_closed();
            let before = c.clone();
            let result = c.apply(&cal, t, role, step);
            if was_closed {
                prop_assert!(result.is_err());
            }
            if result.is_err() {
                prop_assert_eq!(&c, &before, "a refusal changes nothing");
            }
            prop_assert_eq!(c.inconsistency(), None, "{:?}", c);
            t += chrono::Duration::hours(5);
        }
    }

    /// Appeals: never two open for one evaluation, and the evaluation counts unless an appeal was upheld.
    #[test]
    fn appeals_never_double_up(decisions in proptest::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 0..20)) {
        let cal = Calendar::bundled();
        let t = at(2026, 3, 2, 9);
        let mut appeals: Vec<Appeal> = Vec::new();
        for (refile, by_center, uphold) in decisions {
            if refile {
                let ctx = AppealContext { appealed_before: !appeals.is_empty(), ..bad_review_at(t) };
                if let Ok(a) = Appeal::file(&cal, t, ctx, "理由") { appeals.push(a) }
            } else if let Some(a) = appeals.last_mut() {
                let role = if by_center { AppealRole::Center } else { AppealRole::Unit };
                let _ = a.decide(t, role, uphold, "意见");
            }
            prop_assert!(appeals.len() <= 1, "a staff member cannot appeal twice");
            prop_assert!(appeals.iter().filter(|a| a.state.is_open()).count() <= 1);
            let invalidated = appeals.iter().any(Appeal::invalidates);
            prop_assert_eq!(invalidated, appeals.iter().any(|a| a.state == AppealState::Upheld));
        }
    }
}

#[test]
fn missed_deadlines_by_state_and_long_term_finding() {
    use hcp_domain::case::DeadlineKind;
    let cal = Calendar::bundled();
    let mut c = Case::open();
    // Monday 2026-11-02, 09:00: contact due Tuesday 24:00, rectify due Monday 11-09, reply due 11-23.
    c.apply(&cal, at(2026, 11, 2, 9), CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    assert!(c.missed(at(2026, 11, 3, 23)).is_empty());
    assert_eq!(c.missed(at(2026, 11, 4, 9)), vec![DeadlineKind::Contact]);
    let d = c.deadlines.unwrap();
    assert_eq!(c.due_of(&CaseStep::Contact { text: text("x") }), Some((DeadlineKind::Contact, d.contact)));
    c.apply(&cal, at(2026, 11, 4, 9), CaseRole::Unit, CaseStep::Contact { text: text("已联系") }).unwrap();
    assert!(c.missed(at(2026, 11, 9, 12)).is_empty());
    assert_eq!(c.missed(at(2026, 11, 10, 1)), vec![DeadlineKind::Handling], "5 working days");
    // A problem that cannot be fixed quickly has until the 15-day reply at once (plan §九 asks no approval):
    // a center that never reviews the finding does not make the unit late on day 6 (issue 30 §1).
    c.apply(
        &cal,
        at(2026, 11, 5, 9),
        CaseRole::Unit,
        CaseStep::Finding { real_problem: true, long_term: true, text: text("需改造系统") },
    )
    .unwrap();
    assert_eq!(c.handling_due(), Some(d.reply));
    assert!(c.missed(at(2026, 11, 10, 9)).is_empty(), "day 6, the center silent: not late");
    assert_eq!(
        c.apply(&cal, at(2026, 11, 5, 10), CaseRole::Unit, CaseStep::ApprovePlan).unwrap_err().code,
        "step_not_allowed"
    );
    // The center reviews: it may let the finding stand (recorded once) …
    let mut accepted = c.clone();
    accepted.apply(&cal, at(2026, 11, 5, 11), CaseRole::HotlineCenter, CaseStep::ApprovePlan).unwrap();
    let e = accepted.apply(&cal, at(2026, 11, 5, 12), CaseRole::HotlineCenter, CaseStep::ApprovePlan).unwrap_err();
    assert_eq!(e.code, "no_plan_to_approve");
    assert_eq!(accepted.handling_due(), Some(d.reply));
    // … or overturn it with a reason: the 5 days apply again, from where they ran (late if already past).
    let mut overturned = c.clone();
    let blank = CaseStep::OverturnLongTerm { text: text(" ") };
    assert_eq!(
        overturned.apply(&cal, at(2026, 11, 6, 9), CaseRole::HotlineCenter, blank).unwrap_err().code,
        "text_required"
    );
    let why = CaseStep::OverturnLongTerm { text: text("更换设备即可解决,不属于长期问题") };
    overturned.apply(&cal, at(2026, 11, 11, 9), CaseRole::HotlineCenter, why).unwrap();
    assert_eq!(overturned.handling_due(), Some(d.rectify));
    assert_eq!(overturned.missed(at(2026, 11, 11, 10)), vec![DeadlineKind::Handling], "past the 5 days: late");
    let e = overturned.apply(&cal, at(2026, 11, 11, 10), CaseRole::Unit, CaseStep::PlanReplied { text: text("x") });
    assert_eq!(e.unwrap_err().code, "plan_needs_long_term_finding");
    assert!(c.missed(at(2026, 11, 20, 9)).is_empty());
    assert_eq!(c.missed(at(2026, 11, 24, 9)), vec![DeadlineKind::Handling]);
    c.apply(&cal, at(2026, 11, 20, 9), CaseRole::Unit, CaseStep::PlanReplied { text: text("12月上线") }).unwrap();
    assert!(c.inconsistency().is_none());
    assert!(c.missed(at(2027, 1, 1, 9)).is_empty(), "handled: waiting for follow-up runs no clock");
}

/// A long-term finding is for a unit still within its 5 days; after them it is refused (issue 30 §1).
#[test]
fn a_long_term_finding_after_the_five_days_is_refused() {
    let cal = Calendar::bundled();
    let mut c = Case::open();
    c.apply(&cal, at(2026, 11, 2, 9), CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    c.apply(&cal, at(2026, 11, 2, 10), CaseRole::Unit, CaseStep::Contact { text: text("已联系") }).unwrap();
    let late = CaseStep::Finding { real_problem: true, long_term: true, text: text("需改造系统") };
    let before = c.clone();
    assert_eq!(c.apply(&cal, at(2026, 11, 10, 9), CaseRole::Unit, late).unwrap_err().code, "too_late_for_long_term");
    assert_eq!(c, before, "nothing changed");
    let plain = CaseStep::Finding { real_problem: true, long_term: false, text: text("尽快整改") };
    c.apply(&cal, at(2026, 11, 10, 9), CaseRole::Unit, plain).unwrap();
}

#[test]
fn a_plan_needs_a_long_term_finding() {
    let cal = Calendar::bundled();
    let mut c = Case::open();
    c.apply(&cal, at(2026, 11, 2, 9), CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    c.apply(&cal, at(2026, 11, 2, 10), CaseRole::Unit, CaseStep::Contact { text: text("已联系") }).unwrap();
    let finding = CaseStep::Finding { real_problem: true, long_term: false, text: text("材料清单漏列") };
    c.apply(&cal, at(2026, 11, 2, 11), CaseRole::Unit, finding).unwrap();
    let e = c.apply(&cal, at(2026, 11, 9, 9), CaseRole::Unit, CaseStep::PlanReplied { text: text("x") }).unwrap_err();
    assert_eq!(e.code, "plan_needs_long_term_finding");
    let before = c.clone();
    let e = c.apply(&cal, at(2026, 11, 9, 9), CaseRole::HotlineCenter, CaseStep::ApprovePlan).unwrap_err();
    assert_eq!(e.code, "no_plan_to_approve");
    assert_eq!(c, before, "nothing changed");
}

#[test]
fn system_assigns_only_unassigned_and_office_sends_back() {
    let cal = Calendar::bundled();
    let t = at(2026, 11, 2, 9);
    let mut c = Case::open();
    c.apply(&cal, t, CaseRole::System, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    let e = c.apply(&cal, t, CaseRole::System, CaseStep::Assign { unit_id: 4, reason: Some(text("x")) }).unwrap_err();
    assert_eq!(e.code, "step_not_allowed");
    c.apply(&cal, t, CaseRole::HotlineCenter, CaseStep::Escalate { reason: text("逾期未联系") }).unwrap();
    let e = c.apply(&cal, t, CaseRole::CountyOffice, CaseStep::Assign { unit_id: 3, reason: None }).unwrap_err();
    assert_eq!(e.code, "text_required");
    c.apply(&cal, t, CaseRole::CountyOffice, CaseStep::Assign { unit_id: 3, reason: Some(text("限期办理")) }).unwrap();
    assert_eq!((c.state, c.round), (CaseState::Assigned, 2));
}

#[test]
fn the_clock_reminds_on_the_due_morning_then_marks_missed() {
    use hcp_domain::case::{ClockEvent, ClockMarks, DeadlineKind};
    let cal = Calendar::bundled();
    let mut c = Case::open();
    assert!(c.clock(ClockMarks::default()).is_empty(), "no clock before assignment");
    c.apply(&cal, at(2026, 11, 2, 9), CaseRole::HotlineCenter, CaseStep::Assign { unit_id: 3, reason: None }).unwrap();
    let events = c.clock(ClockMarks::default());
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        (
            cst().with_ymd_and_hms(2026, 11, 3, 8, 30, 0).unwrap().with_timezone(&Utc),
            ClockEvent::Remind(DeadlineKind::Contact)
        )
    );
    assert_eq!(events[1].1, ClockEvent::Miss(DeadlineKind::Contact));
    let marks = ClockMarks { contact_reminded: true, contact_missed: true, ..ClockMarks::default() };
    assert_eq!(c.clock(marks).len(), 2);
    c.apply(&cal, at(2026, 11, 2, 10), CaseRole::Unit, CaseStep::SolveOnSpot { text: text("当场补办") }).unwrap();
    assert!(c.clock(ClockMarks::default()).is_empty(), "handled: no clock");
}

proptest! {
    /// A case and its appeal together, as the use cases drive them (an upheld appeal closes the case as
    /// appealed in the same write): an upheld appeal never leaves a case open, and no case is closed as
    /// appealed without an upheld appeal (the store then keeps the invalidation that statistics leave out).
    #[test]
    fn a_case_and_its_appeal_stay_consistent(
        actions in proptest::collection::vec(
            prop_oneof![any_step().prop_map(Ok), (any::<bool>(), any::<bool>()).prop_map(Err)],
            0..40,
        )
    ) {
        let cal = Calendar::bundled();
        let mut t = at(2026, 3, 2, 9);
        let mut c = Case::open();
        let mut appeal: Option<Appeal> = None;
        for action in actions {
            match action {
                Ok((role, step)) if step != CaseStep::CloseAsAppealed => {
                    let _ = c.apply(&cal, t, role, step);
                }
                Ok(_) => {}
                Err((by_center, uphold)) => match appeal.as_mut() {
                    None if !c.state.is_closed() => {
                        appeal = Appeal::file(&cal, t, bad_review_at(at(2026, 3, 2, 9)), "理由").ok();
                    }
                    None => {}
                    Some(a) => {
                        let role = if by_center { AppealRole::Center } else { AppealRole::Unit };
                        if a.decide(t, role, uphold, "意见").is_ok() && a.invalidates() {
                            let _ = c.apply(&cal, t, CaseRole::System, CaseStep::CloseAsAppealed);
                        }
                    }
                },
            }
            prop_assert_eq!(c.inconsistency(), None);
            let upheld = appeal.as_ref().is_some_and(Appeal::invalidates);
            if c.state == CaseState::ClosedAsAppealed {
                prop_assert!(upheld, "closed as appealed without an upheld appeal");
            }
            if upheld {
                prop_assert!(c.state.is_closed(), "an upheld appeal left the case open: {:?}", c.state);
            }
            t += chrono::Duration::hours(3);
        }
    }
}

//! The five evaluation levels (R7.1) and which of them are bad reviews (R7.2).
//!
//! One internal enum; every external coding is an explicit mapping here, because the national interface
//! (1 = 非常不满意 … 5 = 非常满意) and GB/T 39046-2020 table A.8 (1 = 非常满意 … 5 = 非常不满意) run in
//! opposite directions and a silent mix-up would turn praise into complaints.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    VerySatisfied,
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
    VeryDissatisfied,
}

impl Level {
    /// From very satisfied to very dissatisfied, the order in which the annex and every screen list them.
    pub const ALL: [Level; 5] = [
        Level::VerySatisfied,
        Level::Satisfied,
        Level::BasicallySatisfied,
        Level::Dissatisfied,
        Level::VeryDissatisfied,
    ];

    /// The level recorded for a service nobody rated within 7 natural days (R7.3).
    pub const DEFAULT: Level = Level::BasicallySatisfied;

    /// The stable name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::VerySatisfied => "very_satisfied",
            Level::Satisfied => "satisfied",
            Level::BasicallySatisfied => "basically_satisfied",
            Level::Dissatisfied => "dissatisfied",
            Level::VeryDissatisfied => "very_dissatisfied",
        }
    }

    /// The exact Chinese name of the source document (§7).
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::VerySatisfied => "非常满意",
            Level::Satisfied => "满意",
            Level::BasicallySatisfied => "基本满意",
            Level::Dissatisfied => "不满意",
            Level::VeryDissatisfied => "非常不满意",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// R7.2: the last two levels are bad reviews (差评).
    /// The position in [`Level::ALL`] (0 = very satisfied).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn is_bad_review(self) -> bool {
        matches!(self, Level::Dissatisfied | Level::VeryDissatisfied)
    }

    /// Position in [`Level::ALL`], 1-based: 1 = 非常满意. This is also the GB/T 39046-2020 A.8 code.
    pub fn gbt_code(self) -> u8 {
        match self {
            Level::VerySatisfied => 1,
            Level::Satisfied => 2,
            Level::BasicallySatisfied => 3,
            Level::Dissatisfied => 4,
            Level::VeryDissatisfied => 5,
        }
    }

    /// The national 好差评 interface code: 1 = 非常不满意 … 5 = 非常满意 (the reverse of [`Level::gbt_code`]).
    pub fn national_code(self) -> u8 {
        6 - self.gbt_code()
    }

    pub fn from_national_code(code: u8) -> Option<Level> {
        (1..=5).contains(&code).then(|| Level::ALL[usize::from(5 - code)])
    }

    pub fn from_gbt_code(code: u8) -> Option<Level> {
        (1..=5).contains(&code).then(|| Level::ALL[usize::from(code - 1)])
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name_zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_of_the_source_r7_1() {
        let names: Vec<_> = Level::ALL.iter().map(|l| l.name_zh()).collect();
        assert_eq!(names, ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]);
    }

    #[test]
    fn only_the_last_two_are_bad_reviews_r7_2() {
        let bad: Vec<_> = Level::ALL.iter().filter(|l| l.is_bad_review()).collect();
        assert_eq!(bad, [&Level::Dissatisfied, &Level::VeryDissatisfied]);
    }

    #[test]
    fn national_and_gbt_codes_run_in_opposite_directions() {
        assert_eq!(Level::VerySatisfied.national_code(), 5);
        assert_eq!(Level::VerySatisfied.gbt_code(), 1);
        assert_eq!(Level::VeryDissatisfied.national_code(), 1);
        for l in Level::ALL {
            assert_eq!(Level::from_national_code(l.national_code()), Some(l));
            assert_eq!(Level::from_gbt_code(l.gbt_code()), Some(l));
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
        assert_eq!(Level::from_national_code(0), None);
        assert_eq!(Level::from_gbt_code(6), None);
        assert_eq!(Level::parse("good"), None);
    }
}

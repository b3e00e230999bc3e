//! Building statements with many parameters (batches). The one dialect difference that matters for speed:
//! SQLite resolves a named parameter like `$7` by a linear search of the statement's names, so binding n
//! of them costs O(n²); plain `?` costs O(n). PostgreSQL requires `$n`.

use crate::Backend;

/// `count` pieces of SQL, each with the next placeholder number after `n` (which it advances).
pub(crate) fn numbered(n: &mut usize, count: usize, piece: impl Fn(usize) -> String) -> Vec<String> {
    (0..count)
        .map(|_| {
            *n += 1;
            piece(*n)
        })
        .collect()
}

/// Appends `(p, p, …)` with `count` parameters numbered from `first` (1-based), in the backend's style.
pub(crate) fn push_tuple(sql: &mut String, backend: Backend, first: usize, count: usize) {
    sql.push('(');
    for c in 0..count {
        if c > 0 {
            sql.push(',');
        }
        match backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&(first + c).to_string());
            }
        }
    }
    sql.push(')');
}

/// A statement over a list of ids: `prefix`, `(p, p, …)` with one parameter per id (bound), then `suffix`
/// (`… WHERE id IN ` + list + ` ON CONFLICT …`). Callers chunk long lists.
pub(crate) fn with_ids(
    prefix: &str,
    suffix: &str,
    backend: Backend,
    ids: &[i64],
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut sql = String::from(prefix);
    push_tuple(&mut sql, backend, 1, ids.len());
    sql.push_str(suffix);
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(*id);
    }
    q
}

/// Appends `rows` tuples of `cols` parameters each, separated by commas (a multi-row VALUES list).
pub(crate) fn push_rows(sql: &mut String, backend: Backend, rows: usize, cols: usize) {
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        push_tuple(sql, backend, r * cols + 1, cols);
    }
}

/// A text value written into a statement's text, quoted. Only codes and paths qualify (letters, digits,
/// `_ - / %`); anything else is refused as corrupt rather than quoted, so no escaping rule is needed. For
/// statements run unprepared: PostgreSQL plans a prepared statement generically after five runs, blind to a
/// subtree's `LIKE '/1/5/%'` or a rare filter value, and such plans were 100–1000× slower.
pub(crate) fn text_literal(s: &str) -> Result<String, crate::StoreError> {
    if s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-/%".contains(&b)) {
        Ok(format!("'{s}'"))
    } else {
        Err(crate::StoreError::Corrupt(format!("not a code or path: {s:?}")))
    }
}

/// An organization subtree's `LIKE` pattern written into a statement's text (`'/1/5/%'`), for the same reason as
/// [`text_literal`]; only a stored path of digits and slashes qualifies.
pub(crate) fn subtree_literal(org_path: &str) -> Result<String, crate::StoreError> {
    if org_path.bytes().all(|b| b.is_ascii_digit() || b == b'/') {
        Ok(format!("'{org_path}%'"))
    } else {
        Err(crate::StoreError::Corrupt(format!("organization path {org_path:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_become_literals() {
        assert_eq!(text_literal("/1/5/%").unwrap(), "'/1/5/%'");
        assert_eq!(text_literal("very_dissatisfied").unwrap(), "'very_dissatisfied'");
        assert!(text_literal("x' OR '1'='1").is_err());
        assert!(text_literal("青山").is_err());
    }

    #[test]
    fn styles() {
        let mut s = String::new();
        push_rows(&mut s, Backend::Postgres, 2, 2);
        assert_eq!(s, "($1,$2),($3,$4)");
        let mut s = String::new();
        push_rows(&mut s, Backend::Sqlite, 2, 2);
        assert_eq!(s, "(?,?),(?,?)");
    }
}

//! A small, BEAM-shaped value tree.
//!
//! Core types describe themselves as [`Value`]s; the NIF shim encodes them as
//! Erlang terms (maps with atom keys, atoms, integers, binaries, lists, nil)
//! without any per-type glue.

/// A value that maps one-to-one onto an Erlang term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// An integer
    Int(i64),
    /// A UTF-8 binary (`String.t()`)
    Str(String),
    /// An atom. Only names known at compile time, so modem input can never
    /// grow the atom table.
    Atom(&'static str),
    /// A list
    List(Vec<Value>),
    /// A map with atom keys
    Map(Vec<(&'static str, Value)>),
    /// A tuple
    Tuple(Vec<Value>),
}

impl Value {
    /// `Some(x)` becomes `x`, `None` becomes `nil`.
    pub fn opt<T: Into<Value>>(value: Option<T>) -> Value {
        value.map_or(Value::Nil, Into::into)
    }

    /// The same value with the keys of every map in it sorted by name (the
    /// order the VM keeps atom keys in; a map built in that order needs no
    /// sorting when it becomes a term).
    pub fn sorted(self) -> Value {
        match self {
            Value::Map(mut fields) => {
                // Keys are unique (parsers build each map once), so an
                // unstable sort gives the same order with less code.
                fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
                Value::Map(fields.into_iter().map(|(k, v)| (k, v.sorted())).collect())
            }
            Value::List(items) => Value::List(items.into_iter().map(Value::sorted).collect()),
            Value::Tuple(items) => Value::Tuple(items.into_iter().map(Value::sorted).collect()),
            other => other,
        }
    }

    /// Whether every map in this value has its keys in sorted order.
    pub fn is_sorted(&self) -> bool {
        match self {
            Value::Map(fields) => {
                fields.windows(2).all(|w| w[0].0 < w[1].0)
                    && fields.iter().all(|(_, v)| v.is_sorted())
            }
            Value::List(items) | Value::Tuple(items) => items.iter().all(Value::is_sorted),
            _ => true,
        }
    }

    /// Every atom in this value (map keys included), in order of appearance;
    /// `nil`, `true` and `false` are not counted.
    pub fn atoms(&self, out: &mut Vec<&'static str>) {
        match self {
            Value::Atom(a) => out.push(a),
            Value::Map(fields) => {
                for (k, v) in fields {
                    out.push(k);
                    v.atoms(out);
                }
            }
            Value::List(items) | Value::Tuple(items) => {
                items.iter().for_each(|i| i.atoms(out));
            }
            Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Str(_) => {}
        }
    }

    /// Looks a key up in a [`Value::Map`].
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(fields) => fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}

impl From<u16> for Value {
    fn from(v: u16) -> Self {
        Value::Int(v.into())
    }
}

impl From<u8> for Value {
    fn from(v: u8) -> Self {
        Value::Int(v.into())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_owned())
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_maps_none_to_nil() {
        assert_eq!(Value::opt::<i64>(None), Value::Nil);
        assert_eq!(Value::opt(Some(3i64)), Value::Int(3));
    }

    #[test]
    fn sorts_map_keys_deeply() {
        let v = Value::Map(vec![
            ("rssi", Value::Int(1)),
            (
                "ber",
                Value::List(vec![Value::Map(vec![("b", Value::Nil), ("a", Value::Nil)])]),
            ),
        ]);
        assert!(!v.is_sorted());
        let s = v.sorted();
        assert!(s.is_sorted());
        assert_eq!(
            s,
            Value::Map(vec![
                (
                    "ber",
                    Value::List(vec![Value::Map(vec![("a", Value::Nil), ("b", Value::Nil)])])
                ),
                ("rssi", Value::Int(1)),
            ])
        );
    }

    #[test]
    fn get_finds_map_keys() {
        let v = Value::Map(vec![("rssi", Value::Int(17))]);
        assert_eq!(v.get("rssi"), Some(&Value::Int(17)));
        assert_eq!(v.get("ber"), None);
        assert_eq!(Value::Nil.get("rssi"), None);
    }
}

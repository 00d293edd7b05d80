//! Network time: 3GPP `+CTZV` and `+CTZE` (the URCs of `AT+CTZR=1`/`=2`)
//! and Quectel `+QLTS` (the answer of `AT+QLTS`).
//!
//! All three carry `<tz>`, the local time zone **plus** daylight saving time
//! in quarter hours (`"+32"` is UTC+8, `"-20"` UTC-5), as a signed integer.
//! `<dst>` says how many hours of `<tz>` are daylight saving time (0..2).
//! Times are maps `%{year, month, day, hour, minute, second}` checked for
//! range (a day that does not exist in its month, 2023/02/30, is left for the
//! caller's calendar to refuse). Whether a time is local or UTC depends on
//! the kind; see each function.

use super::fields::{decimal, Line, Reader};
use super::ParseError;
use crate::Value;

/// `<tz>` beyond ±24 hours is refused; 27.007 allows -48..+56.
const MAX_TZ: i64 = 96;

/// `+CTZV: <tz>[,<dst>]` → `%{tz, dst}`.
///
/// 27.007 sends only `<tz>`; some modems append `<dst>` (0..2), which is
/// kept when it is one, else nil. Anything after that (a vendor time whose
/// zone is not documented) is ignored.
pub(super) fn ctzv(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("ctzv");
    r.at_most(4)?;
    let tz = tz(&r, 0)?;
    let dst = r.lenient_int(1).filter(|d| (0..=2).contains(d));
    Ok(Value::Map(vec![
        ("dst", Value::opt(dst)),
        ("tz", tz.into()),
    ]))
}

/// `+CTZE: <tz>,<dst>[,<time>]` → `%{tz, dst, time}`.
///
/// `<time>` is `"YYYY/MM/DD,hh:mm:ss"`, the **local** time (27.007 §8.41 and
/// the Quectel manuals); nil when the network sent none. Quoted as one field
/// (the usual form) or unquoted as two.
pub(super) fn ctze(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("ctze");
    r.at_most(4)?;
    let tz = tz(&r, 0)?;
    let dst = r.int_in(1, "dst", 0, 2, &[], "0..2")?;
    let time = match (r.opt_str(2), r.opt_str(3)) {
        (None, _) => None,
        (Some(both), None) => {
            let (date, clock) = both
                .split_once(',')
                .ok_or_else(|| r.invalid(2, "time", "is not YYYY/MM/DD,hh:mm:ss"))?;
            Some(
                datetime(date, clock)
                    .ok_or_else(|| r.invalid(2, "time", "is not YYYY/MM/DD,hh:mm:ss"))?,
            )
        }
        (Some(date), Some(clock)) => Some(
            datetime(date, clock)
                .ok_or_else(|| r.invalid(2, "time", "is not YYYY/MM/DD,hh:mm:ss"))?,
        ),
    };
    Ok(Value::Map(vec![
        ("dst", dst.into()),
        ("time", Value::opt(time)),
        ("tz", tz.into()),
    ]))
}

/// `+QLTS: "<YYYY/MM/DD,hh:mm:ss><±zz>,<dst>"` → `%{tz, dst, time}`.
///
/// For `AT+QLTS` and `AT+QLTS=1` the time is **UTC** (GMT), the time of the
/// last NITZ for mode 0 (Quectel EC2x/BG96 manuals); `<tz>` and `<dst>` as in
/// `+CTZE`. `AT+QLTS=2` would answer the local time in the same form, so the
/// monitor only sends `AT+QLTS`. `+QLTS: ""` (no network time yet) gives
/// every field nil.
pub(super) fn qlts(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("qlts");
    r.at_most(3)?;
    let nil = || {
        Value::Map(vec![
            ("dst", Value::Nil),
            ("time", Value::Nil),
            ("tz", Value::Nil),
        ])
    };
    // One quoted field normally; unquoted, the commas split it in three.
    let text = line
        .fields
        .iter()
        .map(|f| f.text)
        .collect::<Vec<_>>()
        .join(",");
    if text.trim().is_empty() {
        return Ok(nil());
    }
    let bad = || r.invalid(0, "time", "is not YYYY/MM/DD,hh:mm:ss±zz,d");
    let (date, rest) = text.split_once(',').ok_or_else(bad)?;
    // The zone's sign ends the clock (the clock itself has none).
    let sign = rest.find(['+', '-']).ok_or_else(bad)?;
    let (clock, zone) = rest.split_at(sign);
    let (tz_text, dst_text) = match zone.split_once(',') {
        Some((tz, dst)) => (tz.trim(), Some(dst.trim())),
        None => (zone.trim(), None),
    };
    let time = datetime(date, clock).ok_or_else(bad)?;
    let tz = decimal(tz_text)
        .filter(|t| (-MAX_TZ..=MAX_TZ).contains(t))
        .ok_or_else(|| r.invalid(0, "tz", "is not a time zone in quarter hours (±zz)"))?;
    let dst = match dst_text {
        None | Some("") => None,
        Some(d) => Some(
            decimal(d)
                .filter(|d| (0..=2).contains(d))
                .ok_or_else(|| r.invalid(0, "dst", "is outside 0..2"))?,
        ),
    };
    Ok(Value::Map(vec![
        ("dst", Value::opt(dst)),
        ("time", time),
        ("tz", tz.into()),
    ]))
}

/// A required `<tz>`: `"+32"`, `-20`, `"08"`.
fn tz(r: &Reader, i: usize) -> Result<i64, ParseError> {
    let f = r.present(i).ok_or_else(|| r.missing("tz"))?;
    let v = decimal(f.text).ok_or_else(|| r.invalid(i, "tz", "is not an integer"))?;
    if (-MAX_TZ..=MAX_TZ).contains(&v) {
        Ok(v)
    } else {
        Err(r.invalid(i, "tz", "is outside -96..96 quarter hours"))
    }
}

/// Unsigned decimal digits only (no sign, no spaces), 1 to 4 of them.
fn digits(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    decimal(t)
}

/// `YYYY/MM/DD` (or `YY/MM/DD`, years 2000..2099) and `hh:mm:ss` → a time map.
fn datetime(date: &str, clock: &str) -> Option<Value> {
    let mut d = date.trim().split('/');
    let (year_text, month, day) = (d.next()?, digits(d.next()?)?, digits(d.next()?)?);
    let year = match (year_text.trim().len(), digits(year_text)?) {
        (4, y) => y,
        (2, y) => 2000 + y,
        _ => return None,
    };
    let mut c = clock.trim().split(':');
    let (hour, minute, second) = (digits(c.next()?)?, digits(c.next()?)?, digits(c.next()?)?);
    if d.next().is_some() || c.next().is_some() {
        return None;
    }
    let ok = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..=23).contains(&hour)
        && (0..=59).contains(&minute)
        && (0..=59).contains(&second);
    ok.then(|| {
        Value::Map(vec![
            ("day", day.into()),
            ("hour", hour.into()),
            ("minute", minute.into()),
            ("month", month.into()),
            ("second", second.into()),
            ("year", year.into()),
        ])
    })
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn time(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Value {
        Value::Map(vec![
            ("day", d.into()),
            ("hour", h.into()),
            ("minute", mi.into()),
            ("month", mo.into()),
            ("second", s.into()),
            ("year", y.into()),
        ])
    }

    /// `(line, kind, tz, dst, time)`. Real lines first (the Quectel AT
    /// manual's examples and a BG96 capture quoted in a public driver), then
    /// lines of the shapes 27.007 §8.41 allows (quoted `<tz>`, leading
    /// zeros, `YYYY/MM/DD,hh:mm:ss`, no `<time>`) and the unquoted and
    /// spaced variants the line splitter sees from other vendors.
    #[allow(clippy::type_complexity)]
    const ROWS: &[(
        &str,
        &str,
        Option<i64>,
        Option<i64>,
        Option<(i64, i64, i64, i64, i64, i64)>,
    )] = &[
        // Quectel AT manual, AT+CTZR=2 example (China, UTC+8, no DST)
        (
            r#"+CTZE: "+32",0,"2017/11/04,06:51:13""#,
            "ctze",
            Some(32),
            Some(0),
            Some((2017, 11, 4, 6, 51, 13)),
        ),
        // Quectel BG96 in Poland in winter (UTC+1), from a public driver
        (
            r#"+CTZE: "+04",0,"2021/02/02,18:36:23""#,
            "ctze",
            Some(4),
            Some(0),
            Some((2021, 2, 2, 18, 36, 23)),
        ),
        // The same shape, another date
        (
            r#"+CTZE: "+32",0,"2016/04/22,09:07:38""#,
            "ctze",
            Some(32),
            Some(0),
            Some((2016, 4, 22, 9, 7, 38)),
        ),
        // US Eastern daylight time: -16 quarters = UTC-4, of which 1 h is DST
        (
            r#"+CTZE: "-16",1,"2024/07/04,12:00:05""#,
            "ctze",
            Some(-16),
            Some(1),
            Some((2024, 7, 4, 12, 0, 5)),
        ),
        // India, a zone of half hours: +22 quarters = UTC+5:30
        (
            r#"+CTZE: "+22",0,"2023/12/31,23:59:59""#,
            "ctze",
            Some(22),
            Some(0),
            Some((2023, 12, 31, 23, 59, 59)),
        ),
        // The network sent no time (the field is optional in 27.007)
        (r#"+CTZE: "+04",0"#, "ctze", Some(4), Some(0), None),
        (r#"+CTZE: "+04",0,"""#, "ctze", Some(4), Some(0), None),
        // Unquoted: the comma splits date and clock
        (
            "+CTZE: -20,0,2025/01/15,08:30:00",
            "ctze",
            Some(-20),
            Some(0),
            Some((2025, 1, 15, 8, 30, 0)),
        ),
        // Two-digit year
        (
            r#"+ctze: "+08", 1, "24/03/31,02:00:00""#,
            "ctze",
            Some(8),
            Some(1),
            Some((2024, 3, 31, 2, 0, 0)),
        ),
        // +CTZV (AT+CTZR=1): the zone only
        (r#"+CTZV: "+32""#, "ctzv", Some(32), None, None),
        ("+CTZV: -20", "ctzv", Some(-20), None, None),
        ("+CTZV: +08,1", "ctzv", Some(8), Some(1), None),
        // A vendor time after the zone is ignored
        (
            r#"+CTZV: "-16","2013/10/14,09:33:10""#,
            "ctzv",
            Some(-16),
            None,
            None,
        ),
        // Quectel AT manual: AT+QLTS (= AT+QLTS=0), the last network time
        // in GMT, and AT+QLTS=2, the same form in local time
        (
            r#"+QLTS: "2017/10/13,03:40:48+32,0""#,
            "qlts",
            Some(32),
            Some(0),
            Some((2017, 10, 13, 3, 40, 48)),
        ),
        (
            r#"+QLTS: "2017/01/13,11:41:23+32,0""#,
            "qlts",
            Some(32),
            Some(0),
            Some((2017, 1, 13, 11, 41, 23)),
        ),
        // Quectel AT+QLTS: the last network time, in UTC. This line was
        // in this crate's table of unknown lines before +QLTS was parsed
        // (US Eastern daylight time: -16 quarters, 1 h of it DST).
        (
            r#"+QLTS: "2020/03/13,13:21:36-16,1""#,
            "qlts",
            Some(-16),
            Some(1),
            Some((2020, 3, 13, 13, 21, 36)),
        ),
        (
            r#"+QLTS: "2024/10/27,00:59:59-16,1""#,
            "qlts",
            Some(-16),
            Some(1),
            Some((2024, 10, 27, 0, 59, 59)),
        ),
        (
            r#"+QLTS: "2020/02/29,12:00:00+00,0""#,
            "qlts",
            Some(0),
            Some(0),
            Some((2020, 2, 29, 12, 0, 0)),
        ),
        // Unquoted, and without <dst>
        (
            "+QLTS: 2019/06/01,10:20:30-20,0",
            "qlts",
            Some(-20),
            Some(0),
            Some((2019, 6, 1, 10, 20, 30)),
        ),
        (
            r#"+QLTS: "2019/06/01,10:20:30+04""#,
            "qlts",
            Some(4),
            None,
            Some((2019, 6, 1, 10, 20, 30)),
        ),
        // No network time synchronized yet
        (r#"+QLTS: """#, "qlts", None, None, None),
    ];

    #[test]
    fn parses_network_time_lines() {
        for (line, kind, tz, dst, t) in ROWS {
            let (k, v) = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e:?}"));
            assert_eq!(k, *kind, "{line:?}");
            assert!(v.is_sorted(), "{line:?}");
            assert_eq!(v.get("tz"), Some(&Value::opt(*tz)), "{line:?} tz");
            assert_eq!(v.get("dst"), Some(&Value::opt(*dst)), "{line:?} dst");
            if *kind != "ctzv" {
                let want = t.map_or(Value::Nil, |(y, mo, d, h, mi, s)| time(y, mo, d, h, mi, s));
                assert_eq!(v.get("time"), Some(&want), "{line:?} time");
            } else {
                assert_eq!(v.get("time"), None, "{line:?}");
            }
        }
    }

    #[test]
    fn refuses_broken_time_lines() {
        let cases: &[(&str, &str, &str)] = &[
            ("+CTZE: ", "missing_field", "<tz>"),
            (r#"+CTZE: "+32""#, "missing_field", "<dst>"),
            (r#"+CTZE: "x32",0"#, "invalid_field", "<tz>"),
            (r#"+CTZE: "+97",0"#, "invalid_field", "-96..96"),
            (r#"+CTZE: "+32",3"#, "invalid_field", "<dst>"),
            (
                r#"+CTZE: "+32",0,"2016/13/22,09:07:38""#,
                "invalid_field",
                "<time>",
            ),
            (
                r#"+CTZE: "+32",0,"2016/04/22,24:00:00""#,
                "invalid_field",
                "<time>",
            ),
            (r#"+CTZE: "+32",0,"2016/04/22""#, "invalid_field", "<time>"),
            (
                r#"+CTZE: "+32",0,"2016/04/22,09:07""#,
                "invalid_field",
                "<time>",
            ),
            (
                r#"+CTZE: "+32",0,"-2016/04/22,09:07:38""#,
                "invalid_field",
                "<time>",
            ),
            ("+CTZE: +32,0,2016/04/22,09:07:38,1", "extra_field", "ctze"),
            ("+CTZV: ", "missing_field", "<tz>"),
            ("+CTZV: abc", "invalid_field", "<tz>"),
            (r#"+QLTS: "2017/01/13,03:40:48""#, "invalid_field", "<time>"),
            (
                r#"+QLTS: "2017/01/13 03:40:48+32,0""#,
                "invalid_field",
                "<time>",
            ),
            (
                r#"+QLTS: "2017/01/13,03:40:48+3x,0""#,
                "invalid_field",
                "<tz>",
            ),
            (
                r#"+QLTS: "2017/01/13,03:40:48+32,5""#,
                "invalid_field",
                "<dst>",
            ),
            (
                r#"+QLTS: "2017/00/13,03:40:48+32,0""#,
                "invalid_field",
                "<time>",
            ),
        ];
        for (line, reason, detail) in cases {
            let e = parse(line.as_bytes()).expect_err(line);
            assert_eq!(e.reason, *reason, "{line:?}: {e:?}");
            assert!(e.detail.contains(detail), "{line:?}: {}", e.detail);
        }
    }
}

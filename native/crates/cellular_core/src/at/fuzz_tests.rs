//! A small deterministic fuzzer (xorshift64*, no extra crates): random bytes
//! and mutations of real lines must never panic, and every answer must keep
//! the parser's promises.

use super::{parse, ParseError, MAX_LINE};
use crate::Value;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        // Bias towards the bytes AT lines are made of.
        const INTERESTING: &[u8] = b"+^!#$%*:,\"()- 0123456789AFafxX\r\n\t\xff\xc3\x00";
        if self.below(3) == 0 {
            self.next() as u8
        } else {
            INTERESTING[self.below(INTERESTING.len())]
        }
    }
}

use super::PARSE_ERROR_REASONS as REASONS;

const SEEDS: &[&str] = &[
    "+CSQ: 17,99",
    "+CESQ: 99,99,255,255,20,80",
    "+CREG: 2,1,\"00C3\",\"0B2D3F0\",7",
    "+CREG: 1,\"00C3\",\"0B2D3F0\",7",
    "+CEREG: 4,1,\"1A2B\",\"01A2D001\",7,,,\"00000000\",\"00111000\"",
    "+CEREG: 2,1, 1F00, 20 ,79D903 ,7",
    "+CGREG: 1,\"1422\",\"00000142\",3,\"00\"",
    "+C5GREG: 2,1,1F00,79D903,11,6,ABCDEF",
    "+COPS: 0,2,\"00101\",7",
    "+CPIN: PH-NET PIN",
    "^ICCID: 98101430121181157002",
    "+QCCID: 8901260852290847433F",
    "+CGDCONT: 1,\"IPV4V6\",\"hologram\",\"0.0.0.0\",0,0,0,0",
    "+CGAUTH: 1,2,\"user\",\"Pw-S3CR3T\"",
    "+QICSGP: 1,\"internet\",\"user\",\"Pw-S3CR3T\",1",
    "+CME ERROR: SIM not inserted",
    "+CMS ERROR: 500",
    "+QNWINFO: \"FDD LTE\",\"310410\",\"LTE BAND 12\",5110",
    "+QCSQ: \"LTE\",-52,-81,195,-10",
    "+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-11,-88,-61,15",
    "+CPSI: GSM,Online,460-00,0x182d,12401,27 EGSM 900,-64,2110,42-42",
    "+CPSI: WCDMA,Online,250-20,0x4D07,4487261,WCDMA IMT 2000,38,10563,0,4.0,69,32,46,500",
    "+COPS: (2,\"AT&T\",\"AT&T\",\"310410\",7),,(0-4),(0-2)",
    "+CTZE: \"+32\",0,\"2016/04/22,09:07:38\"",
    "+CTZV: \"-16\"",
    "+QLTS: \"2017/01/13,03:40:48+32,0\"",
];

/// Checks the promises every answer keeps.
fn check(line: &[u8], result: &Result<(&'static str, Value), ParseError>) {
    // Every atom an answer holds can cross to Elixir: it is in the protocol's table.
    let mut atoms = Vec::new();
    super::parse_term(line).atoms(&mut atoms);
    for atom in atoms {
        assert!(
            crate::protocol::ATOMS.binary_search(&atom).is_ok(),
            "{atom} (from {line:?}) is missing from protocol::ATOMS"
        );
    }
    match result {
        Ok((_, v @ Value::Map(fields))) => {
            assert!(v.is_sorted(), "keys out of order for {line:?}: {v:?}");
            let mut keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), fields.len(), "duplicate keys for {line:?}");
        }
        Ok(other) => panic!("not a map for {line:?}: {other:?}"),
        Err(e) => {
            assert!(REASONS.contains(&e.reason), "{line:?}: {e:?}");
            assert!(!e.detail.is_empty(), "{line:?}: {e:?}");
            assert!(e.detail.len() < 300, "{line:?}: {e:?}");
        }
    }
}

fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = line.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                line[i] = rng.byte();
            }
            1 => {
                let i = rng.below(len + 1);
                line.insert(i, rng.byte());
            }
            2 if len > 0 => {
                line.remove(rng.below(len));
            }
            3 => line.truncate(rng.below(len + 1)),
            4 if len > 0 => {
                let i = rng.below(len);
                let b = line[i];
                line.insert(i, b);
            }
            5 => {
                let tail = line[rng.below(len + 1)..].to_vec();
                line.extend_from_slice(&tail);
            }
            _ => {
                let i = rng.below(len + 1);
                line.splice(i..i, b",\"".iter().copied());
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..100_000 {
        let len = rng.below(120);
        let mut line: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        if rng.below(2) == 0 {
            // Give half of them a real prefix so the field parsers run.
            let seed = SEEDS[rng.below(SEEDS.len())];
            let colon = seed.find(':').unwrap_or(seed.len());
            let mut prefixed = seed.as_bytes()[..=colon.min(seed.len() - 1)].to_vec();
            prefixed.extend_from_slice(&line);
            line = prefixed;
        }
        let result = parse(&line);
        check(&line, &result);
    }
}

#[test]
fn mutated_real_lines_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut ok = 0;
    for round in 0..200_000 {
        let mut line = SEEDS[round % SEEDS.len()].as_bytes().to_vec();
        mutate(&mut rng, &mut line);
        let result = parse(&line);
        ok += usize::from(result.is_ok());
        check(&line, &result);
    }
    // The mutations must leave plenty of parseable lines, or this test would
    // only exercise the error paths.
    assert!(ok > 20_000, "only {ok} mutated lines parsed");
}

/// Credential lines in random spellings (case, spacing, quoting, empty
/// fields, junk after the password) must never give the password back, in a
/// result or in an error.
#[test]
fn passwords_never_escape() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    let spaces = ["", " ", "  ", "\t"];
    for _ in 0..50_000 {
        let password: String = (0..1 + rng.below(12))
            .map(|_| char::from(b"abcXYZ019!@#-_ ."[rng.below(16)]))
            .collect();
        let secret = format!("Pw{password}Zq");
        let pad = |rng: &mut Rng| spaces[rng.below(spaces.len())];
        let q = |rng: &mut Rng, s: &str| {
            if rng.below(4) == 0 {
                s.to_owned()
            } else {
                format!("\"{s}\"")
            }
        };
        let (prefix, head) = match rng.below(4) {
            0 => ("+CGAUTH", format!("{}", rng.below(16))),
            1 => ("+cgauth", format!("{},{}", rng.below(16), rng.below(5))),
            2 => ("+QICSGP", format!("1,{}", q(&mut rng, "internet"))),
            _ => ("+CSTT", q(&mut rng, "CMNET")),
        };
        let head = if prefix.eq_ignore_ascii_case("+CGAUTH") && !head.contains(',') {
            format!("{head},{}", rng.below(4))
        } else {
            head
        };
        let user = if rng.below(5) == 0 {
            String::new()
        } else {
            q(&mut rng, "user")
        };
        let mut line = format!(
            "{prefix}:{}{head},{}{user}{},{}",
            pad(&mut rng),
            pad(&mut rng),
            pad(&mut rng),
            q(&mut rng, &secret)
        );
        if rng.below(3) == 0 {
            line.push_str(&format!(",{}", rng.below(3)));
        }
        if rng.below(5) == 0 {
            line.push('"');
        }
        let result = parse(line.as_bytes());
        check(line.as_bytes(), &result);
        assert!(
            !format!("{result:?}").contains(&secret),
            "{line:?}: {result:?}"
        );
    }
}

#[test]
fn every_seed_parses() {
    for seed in SEEDS {
        let result = parse(seed.as_bytes());
        assert!(result.is_ok(), "{seed:?}: {result:?}");
        check(seed.as_bytes(), &result);
    }
}

#[test]
fn huge_and_pathological_lines_are_refused_quickly() {
    let mut line = b"+CSQ: ".to_vec();
    line.extend(std::iter::repeat_n(b',', MAX_LINE * 4));
    assert_eq!(parse(&line).unwrap_err().reason, "too_long");
    let mut quote = b"+XYZ: \"".to_vec();
    quote.extend(std::iter::repeat_n(b'a', 4000));
    assert_eq!(parse(&quote).unwrap_err().reason, "unterminated_quote");
    let mut quotes = b"+XYZ: ".to_vec();
    quotes.extend(std::iter::repeat_n(b'"', 1001));
    assert_eq!(parse(&quotes).unwrap_err().reason, "invalid_field");
    let mut parens = b"+XYZ: ".to_vec();
    parens.extend(std::iter::repeat_n(b'(', 4000));
    assert!(parse(&parens).is_ok());
    let commas = format!("+XYZ: {}", ",".repeat(4000));
    let (_, v) = parse(commas.as_bytes()).unwrap();
    assert!(matches!(v.get("fields"), Some(Value::List(l)) if l.len() == 4001));
}

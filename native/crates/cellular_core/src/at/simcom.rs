//! SIMCom `+CPSI` (UE system information; SIM7000, SIM7080, SIM7500/7600,
//! A76xx).

use super::fields::{decimal, hex, round_tenths, tenths, Line, Reader};
use super::ParseError;
use crate::Value;

/// `+CPSI: <system mode>,<operation mode>[,...]` → one map shape for every
/// mode, nil where the mode has no such field:
///
/// | key | meaning |
/// |---|---|
/// | `system_mode` | as sent: `"LTE"`, `"LTE CAT-M1"`, `"LTE NB-IOT"`, `"GSM"`, `"WCDMA"`, `"NO SERVICE"`, ... |
/// | `operation_mode` | as sent: `"Online"`, `"Offline"`, `"Low Power Mode"`, ... |
/// | `mcc`, `mnc` | strings from `<MCC>-<MNC>` (`"310"`, `"410"`), leading zeros kept |
/// | `lac` | area code (integer from hex); on LTE the TAC |
/// | `tac` | LTE tracking area code, nil on GSM/WCDMA |
/// | `cell_id` | cell identity (LTE: the serving cell's ECI) |
/// | `pci` | LTE physical cell id |
/// | `psc` | WCDMA primary scrambling code |
/// | `band` | band text as sent (`"EUTRAN-BAND12"`, `"EGSM 900"`, `"WCDMA IMT 2000"`) |
/// | `channel` | EARFCN / UARFCN / ARFCN |
/// | `dl_bandwidth`, `ul_bandwidth` | LTE bandwidth codes as sent |
/// | `rsrp`, `rsrq`, `rssi` | LTE, whole dBm / dB |
/// | `sinr` | LTE RSSNR in dB as sent |
/// | `rxlev` | GSM: RX level in dBm as sent; WCDMA: RXLEV as sent |
/// | `rscp`, `ecio` | WCDMA, as sent (`ecio` rounded to whole dB) |
///
/// Units of the LTE measurements: SIM7000/SIM7080 send whole dB
/// (`-11,-88,-61,15`), SIM7500/SIM7600 send tenths (`-92,-672,-418,14`,
/// i.e. -9.2 dB, -67.2 dBm, -41.8 dBm). A real RSRP lies between -156 and
/// -31 dBm, so an RSRP below -200 marks the line as tenths; RSRQ, RSRP and
/// RSSI are then divided by ten and rounded to the nearest whole unit.
pub(super) fn cpsi(line: &Line) -> Result<Value, ParseError> {
    let r = line.reader("cpsi");
    let system_mode = r.opt_str(0).ok_or_else(|| r.missing("system_mode"))?;
    let mut c = Cpsi {
        system_mode,
        operation_mode: r.opt_str(1),
        ..Cpsi::default()
    };
    if let Some((mcc, mnc)) = r.opt_str(2).and_then(split_dash_plmn) {
        c.mcc = Some(mcc);
        c.mnc = Some(mnc);
    }
    let upper = system_mode.to_ascii_uppercase();
    if upper.starts_with("LTE") {
        lte(&r, &mut c)?;
    } else if upper == "GSM" {
        c.lac = r.opt_hex(3, "lac")?;
        c.cell_id = cell_id(&r, 4)?;
        if let Some(f) = r.opt_str(5) {
            // "27 EGSM 900": the ARFCN, then the band
            let (num, band) = f.split_once(' ').unwrap_or((f, ""));
            c.channel =
                Some(decimal(num).ok_or_else(|| {
                    r.invalid(5, "arfcn", "does not start with a channel number")
                })?);
            c.band = Some(band.trim()).filter(|b| !b.is_empty());
        }
        c.rxlev = r.opt_int(6, "rxlev")?;
    } else if upper == "WCDMA" {
        c.lac = r.opt_hex(3, "lac")?;
        c.cell_id = cell_id(&r, 4)?;
        c.band = r.opt_str(5);
        c.psc = r.opt_int(6, "psc")?;
        c.channel = r.opt_int(7, "uarfcn")?;
        c.ecio = match r.opt_str(9) {
            None => None,
            Some(t) => Some(round_tenths(
                tenths(t).ok_or_else(|| r.invalid(9, "ecio", "is not a number"))?,
            )),
        };
        c.rscp = r.opt_int(10, "rscp")?;
        c.rxlev = r.opt_int(12, "rxlev")?;
    }
    Ok(c.into_value())
}

fn lte<'a>(r: &Reader<'a>, c: &mut Cpsi<'a>) -> Result<(), ParseError> {
    c.tac = r.opt_hex(3, "tac")?;
    c.lac = c.tac;
    c.cell_id = cell_id(r, 4)?;
    c.pci = r.opt_int(5, "pci")?;
    c.band = r.opt_str(6);
    c.channel = r.opt_int(7, "earfcn")?;
    c.dl_bandwidth = r.opt_int(8, "dlbw")?;
    c.ul_bandwidth = r.opt_int(9, "ulbw")?;
    let rsrq = r.opt_int(10, "rsrq")?;
    let rsrp = r.opt_int(11, "rsrp")?;
    let rssi = r.opt_int(12, "rssi")?;
    let scale = |v: Option<i64>| {
        if rsrp.is_some_and(|p| p < -200) {
            v.map(round_tenths)
        } else {
            v
        }
    };
    c.rsrq = scale(rsrq);
    c.rsrp = scale(rsrp);
    c.rssi = scale(rssi);
    c.sinr = r.opt_int(13, "rssnr")?;
    Ok(())
}

fn cell_id(r: &Reader, i: usize) -> Result<Option<i64>, ParseError> {
    match r.present(i) {
        None => Ok(None),
        Some(f) if f.text.starts_with("0x") || f.text.starts_with("0X") => hex(f.text)
            .map(Some)
            .ok_or_else(|| r.invalid(i, "cell_id", "is not a number")),
        Some(f) => decimal(f.text)
            .map(Some)
            .ok_or_else(|| r.invalid(i, "cell_id", "is not a number")),
    }
}

fn split_dash_plmn(text: &str) -> Option<(&str, &str)> {
    let (mcc, mnc) = text.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (mcc.len() == 3 && digits(mcc) && matches!(mnc.len(), 2 | 3) && digits(mnc))
        .then_some((mcc, mnc))
}

#[derive(Default)]
struct Cpsi<'a> {
    system_mode: &'a str,
    operation_mode: Option<&'a str>,
    mcc: Option<&'a str>,
    mnc: Option<&'a str>,
    lac: Option<i64>,
    tac: Option<i64>,
    cell_id: Option<i64>,
    pci: Option<i64>,
    psc: Option<i64>,
    band: Option<&'a str>,
    channel: Option<i64>,
    dl_bandwidth: Option<i64>,
    ul_bandwidth: Option<i64>,
    rsrp: Option<i64>,
    rsrq: Option<i64>,
    rssi: Option<i64>,
    sinr: Option<i64>,
    rxlev: Option<i64>,
    rscp: Option<i64>,
    ecio: Option<i64>,
}

impl Cpsi<'_> {
    fn into_value(self) -> Value {
        Value::Map(vec![
            ("band", Value::opt(self.band)),
            ("cell_id", Value::opt(self.cell_id)),
            ("channel", Value::opt(self.channel)),
            ("dl_bandwidth", Value::opt(self.dl_bandwidth)),
            ("ecio", Value::opt(self.ecio)),
            ("lac", Value::opt(self.lac)),
            ("mcc", Value::opt(self.mcc)),
            ("mnc", Value::opt(self.mnc)),
            ("operation_mode", Value::opt(self.operation_mode)),
            ("pci", Value::opt(self.pci)),
            ("psc", Value::opt(self.psc)),
            ("rscp", Value::opt(self.rscp)),
            ("rsrp", Value::opt(self.rsrp)),
            ("rsrq", Value::opt(self.rsrq)),
            ("rssi", Value::opt(self.rssi)),
            ("rxlev", Value::opt(self.rxlev)),
            ("sinr", Value::opt(self.sinr)),
            ("system_mode", self.system_mode.into()),
            ("tac", Value::opt(self.tac)),
            ("ul_bandwidth", Value::opt(self.ul_bandwidth)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use crate::at::parse;
    use crate::Value;

    fn check(line: &str, want: &[(&str, Value)]) {
        let (kind, v) = parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e:?}"));
        assert_eq!(kind, "cpsi");
        let Value::Map(fields) = &v else { panic!() };
        assert_eq!(fields.len(), 20, "one shape for every mode");
        for (key, value) in want {
            assert_eq!(v.get(key), Some(value), "{line:?} {key}");
        }
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn i(n: i64) -> Value {
        Value::Int(n)
    }

    #[test]
    fn parses_lte_in_whole_units() {
        // The example (SIM7080-style whole dB)
        check(
            "+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-11,-88,-61,15",
            &[
                ("system_mode", s("LTE")),
                ("operation_mode", s("Online")),
                ("mcc", s("310")),
                ("mnc", s("410")),
                ("tac", i(0x4F1B)),
                ("lac", i(0x4F1B)),
                ("cell_id", i(26140801)),
                ("pci", i(318)),
                ("band", s("EUTRAN-BAND12")),
                ("channel", i(5110)),
                ("dl_bandwidth", i(3)),
                ("ul_bandwidth", i(3)),
                ("rsrq", i(-11)),
                ("rsrp", i(-88)),
                ("rssi", i(-61)),
                ("sinr", i(15)),
                ("rxlev", Value::Nil),
                ("psc", Value::Nil),
            ],
        );
        // SIM7080 on Cat-M1
        check(
            "+CPSI: LTE CAT-M1,Online,460-00,0x1816,121939724,280,EUTRAN-BAND3,1300,5,5,-11,-68,-38,19",
            &[
                ("system_mode", s("LTE CAT-M1")),
                ("mnc", s("00")),
                ("tac", i(0x1816)),
                ("rsrp", i(-68)),
                ("sinr", i(19)),
            ],
        );
    }

    #[test]
    fn parses_lte_in_tenths() {
        // SIM7600 (tenths of dB)
        check(
            "+CPSI: LTE,Online,460-01,0x7496,251941991,203,EUTRAN-BAND8,3740,3,3,-92,-672,-418,14",
            &[
                ("mcc", s("460")),
                ("mnc", s("01")),
                ("tac", i(0x7496)),
                ("cell_id", i(251941991)),
                ("pci", i(203)),
                ("channel", i(3740)),
                ("rsrq", i(-9)),
                ("rsrp", i(-67)),
                ("rssi", i(-42)),
                ("sinr", i(14)),
            ],
        );
        check(
            "+CPSI: LTE,Online,505-01,0x5A1E,187214780,257,EUTRAN-BAND3,1850,5,5,-94,-850,-545,15",
            &[
                ("rsrq", i(-9)),
                ("rsrp", i(-85)),
                ("rssi", i(-55)),
                ("mcc", s("505")),
            ],
        );
        check(
            "+CPSI: LTE,Online,250-20,0x4D07,200468759,468,EUTRAN-BAND7,3400,3,3,-69,-900,-661,20",
            &[
                ("rsrq", i(-7)),
                ("rsrp", i(-90)),
                ("rssi", i(-66)),
                ("sinr", i(20)),
            ],
        );
    }

    #[test]
    fn parses_gsm_and_wcdma() {
        check(
            "+CPSI: GSM,Online,460-00,0x182d,12401,27 EGSM 900,-64,2110,42-42",
            &[
                ("system_mode", s("GSM")),
                ("lac", i(0x182D)),
                ("tac", Value::Nil),
                ("cell_id", i(12401)),
                ("channel", i(27)),
                ("band", s("EGSM 900")),
                ("rxlev", i(-64)),
                ("rsrp", Value::Nil),
            ],
        );
        check(
            "+CPSI: WCDMA,Online,250-20,0x4D07,4487261,WCDMA IMT 2000,38,10563,0,4.0,69,32,46,500",
            &[
                ("system_mode", s("WCDMA")),
                ("lac", i(0x4D07)),
                ("cell_id", i(4487261)),
                ("band", s("WCDMA IMT 2000")),
                ("psc", i(38)),
                ("channel", i(10563)),
                ("ecio", i(4)),
                ("rscp", i(69)),
                ("rxlev", i(46)),
            ],
        );
        check(
            "+CPSI: WCDMA,Online,001-01,0xFFFF,0,WCDMA IMT 2000,0,10688,0,-9.5,62,33,52,500",
            &[("mnc", s("01")), ("ecio", i(-10)), ("lac", i(0xFFFF))],
        );
    }

    #[test]
    fn parses_no_service_short_and_unknown_modes() {
        check(
            "+CPSI: NO SERVICE,Online",
            &[
                ("system_mode", s("NO SERVICE")),
                ("operation_mode", s("Online")),
                ("mcc", Value::Nil),
                ("cell_id", Value::Nil),
            ],
        );
        check(
            "+CPSI: NO SERVICE,Low Power Mode",
            &[("operation_mode", s("Low Power Mode"))],
        );
        check(
            "+CPSI: LTE,Online",
            &[("rsrp", Value::Nil), ("tac", Value::Nil)],
        );
        check(
            "+CPSI: NR5G_SA,Online,460-00,0x6F4700,29869309958,0,NR5G_BAND78,627264,-740,-110,240",
            &[
                ("system_mode", s("NR5G_SA")),
                ("mcc", s("460")),
                ("rsrp", Value::Nil),
            ],
        );
        check(
            "+cpsi: LTE , Online , 310-260 , 0x1234 , 123456 , 3 , EUTRAN-BAND2 , 900 , 5 , 5 , -73 , -950 , -650 , 12 ",
            &[("mnc", s("260")), ("rsrp", i(-95)), ("rsrq", i(-7)), ("band", s("EUTRAN-BAND2"))],
        );
    }

    #[test]
    fn refuses_broken_cpsi() {
        for (line, detail) in [
            (
                "+CPSI: LTE,Online,310-410,0xZZ,1,2,B,3,3,3,-11,-88,-61,15",
                "<tac> (field 4)",
            ),
            (
                "+CPSI: LTE,Online,310-410,0x4F1B,x,318,B,5110,3,3,-11,-88,-61,15",
                "<cell_id> (field 5)",
            ),
            (
                "+CPSI: LTE,Online,310-410,0x4F1B,1,318,B,5110,3,3,-11,abc,-61,15",
                "<rsrp> (field 12)",
            ),
            (
                "+CPSI: GSM,Online,460-00,0x182d,12401,EGSM,-64",
                "<arfcn> (field 6)",
            ),
            (
                "+CPSI: WCDMA,Online,250-20,0x4D07,1,B,38,10563,0,x,69",
                "<ecio> (field 10)",
            ),
        ] {
            let e = parse(line.as_bytes()).unwrap_err();
            assert_eq!(e.reason, "invalid_field", "{line:?}");
            assert!(e.detail.contains(detail), "{line:?}: {}", e.detail);
        }
        assert_eq!(parse(b"+CPSI: ").unwrap_err().reason, "missing_field");
    }
}

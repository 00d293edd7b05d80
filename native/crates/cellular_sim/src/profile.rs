//! Per-model profiles: everything that differs between modem models, as data.
//!
//! The interpreter in [`crate::modem`] never asks "which model is this?"; it
//! reads these fields instead (identity strings, which vendor commands exist,
//! result-code details, URCs at boot, radio technology names, USB
//! compositions and how they are switched).
//!
//! ```
//! use cellular_sim::profile;
//!
//! let ec25 = profile::by_key("ec25").unwrap();
//! assert_eq!(ec25.name, "EC25");
//! assert!(ec25.supports("+QCCID"));
//! assert!(!ec25.supports("+CICCID"));
//! assert_eq!(profile::by_key("SIM7600").unwrap().connect, "CONNECT 115200");
//! assert!(profile::by_key("me910c1").unwrap().supports("#CCID"));
//! assert!(profile::by_key("e3372").unwrap().supports("^ICCID"));
//! assert!(profile::by_key("nokia3310").is_none());
//!
//! // USB compositions: the factory one, and the product id of each.
//! use cellular_sim::profile::Composition;
//! let sim7600 = profile::by_key("sim7600").unwrap();
//! assert_eq!(sim7600.composition, Composition::Rmnet);
//! assert_eq!(sim7600.pid(Composition::Ecm), 0x9018);
//! assert!(!profile::by_key("bg96").unwrap().offers(Composition::Ecm));
//! ```

/// How a model answers `AT+CCID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcidStyle {
    /// `+CCID: 8901...` (Quectel).
    Prefixed,
    /// The bare digits on their own line (SIM7080/SIM70xx).
    Bare,
    /// `ERROR`: the model only knows its vendor command (SIM7600 and A76xx use `AT+CICCID`).
    Unsupported,
}

/// The argument order of `AT+CGAUTH=<cid>,<auth>,<a>,<b>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgauthOrder {
    /// 3GPP TS 27.007 order: user, then password (Quectel, SIM7080).
    UserPass,
    /// SIMCom SIM7600/A76xx order: password, then user.
    PassUser,
}

/// How signal figures are scaled in `AT+CPSI?` (SIMCom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpsiUnits {
    /// RSRQ/RSRP/RSSI in tenths of dB (SIM7600, A76xx).
    Tenths,
    /// Whole dB (SIM7080).
    Whole,
}

/// The radio as the vendor commands name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Radio {
    /// `<AcT>` in CREG/CGREG/CEREG (n=2) and COPS.
    pub act: u8,
    /// First field of `+QNWINFO:` ("FDD LTE", "CAT-M1").
    pub qnwinfo_act: &'static str,
    /// Band field of `+QNWINFO:`.
    pub qnwinfo_band: &'static str,
    /// First field of `+QCSQ:` ("LTE", "CAT-M1").
    pub qcsq_mode: &'static str,
    /// System mode field of `+CPSI:` ("LTE", "LTE CAT-M1").
    pub cpsi_mode: &'static str,
    /// Band field of `+CPSI:` ("EUTRAN-BAND2").
    pub cpsi_band: &'static str,
    /// Units of the CPSI signal fields.
    pub cpsi_units: CpsiUnits,
    /// Downlink/uplink bandwidth fields of `+CPSI:`.
    pub cpsi_bw: u8,
    /// The channel number (EARFCN).
    pub earfcn: u32,
    /// `<stat>` of `+CNSMOD:` while in service (8 = LTE on SIM7600, 7 = LTE-M on SIM7080).
    pub cnsmod: u8,
}

/// Which family's command set and URC conventions a model follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Quectel,
    Simcom,
    /// Telit (`#CCID`, `#WS46`).
    Telit,
    /// u-blox (`+URAT`).
    Ublox,
    /// Huawei (`^ICCID`, `^SYSCFGEX`).
    Huawei,
}

/// A USB network function ("composition") a model presents next to its AT
/// ports. The library drives only ECM, RNDIS and MBIM; `Rmnet` stands for the
/// Qualcomm QMI/RmNet default of Quectel, SIMCom and Telit, `Serial` for a
/// composition with no network function at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Composition {
    Serial,
    Rmnet,
    Ecm,
    Rndis,
    Mbim,
}

impl Composition {
    pub const ALL: [Composition; 5] = [
        Composition::Serial,
        Composition::Rmnet,
        Composition::Ecm,
        Composition::Rndis,
        Composition::Mbim,
    ];

    /// The name in events, the `usbnet` control and `--usbnet`.
    pub fn name(self) -> &'static str {
        match self {
            Composition::Serial => "serial",
            Composition::Rmnet => "rmnet",
            Composition::Ecm => "ecm",
            Composition::Rndis => "rndis",
            Composition::Mbim => "mbim",
        }
    }

    pub fn parse(word: &str) -> Option<Composition> {
        Composition::ALL.into_iter().find(|c| c.name() == word)
    }

    /// Does it carry a network interface a data call can run on?
    pub fn has_netdev(self) -> bool {
        self != Composition::Serial
    }
}

/// The vendor commands that switch the composition and run a data call on
/// its network interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsbNetFamily {
    /// Quectel `AT+QCFG="usbnet",<n>` (after the next reset); data call
    /// `AT+QNETDEVCTL`.
    Quectel,
    /// SIMCom `AT+CUSBPIDSWITCH=<pid>,1,1`, which resets by itself; data call
    /// `AT$QCRMCALL`.
    SimcomPid,
    /// u-blox `AT+UUSBCONF` (after the next reset, `AT+CFUN=16`); data call
    /// `AT+CGACT`.
    Ublox,
    /// Telit `AT#USBCFG` (after `AT#REBOOT`); data call `AT#ECM`/`AT#ECMD`.
    Telit,
}

/// One composition a model can be switched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbMode {
    pub composition: Composition,
    /// The vendor's number for it (`usbnet` value, `UUSBCONF` id, `USBCFG`
    /// mode, or the product id itself for `CUSBPIDSWITCH`).
    pub code: u16,
    /// The vendor's name for it where the command prints one (`UUSBCONF`).
    pub label: &'static str,
    /// The USB product id in this composition; `None`: the model's `usb_pid`.
    pub pid: Option<u16>,
}

/// How a model switches its USB network function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbNet {
    pub family: UsbNetFamily,
    /// Every composition the command accepts, the factory one included.
    pub modes: &'static [UsbMode],
}

impl UsbNet {
    pub fn by_code(&self, code: u16) -> Option<&'static UsbMode> {
        self.modes.iter().find(|m| m.code == code)
    }

    pub fn by_composition(&self, composition: Composition) -> Option<&'static UsbMode> {
        self.modes.iter().find(|m| m.composition == composition)
    }
}

/// One modem model.
#[derive(Debug)]
pub struct Profile {
    /// The `--model` value (lower case).
    pub key: &'static str,
    /// The model name printed in the ready event ("EC25").
    pub name: &'static str,
    pub vendor: Vendor,
    /// `AT+CGMI` / `AT+GMI`.
    pub manufacturer: &'static str,
    /// `AT+CGMM` / `AT+GMM`.
    pub model: &'static str,
    /// `AT+CGMR` / `AT+GMR` line, prefix included where the model prints one.
    pub cgmr: &'static str,
    /// `ATI` lines; `{imei}` is replaced by the IMEI.
    pub ati: &'static [&'static str],
    /// Quectel `AT+QGMR` (full firmware version); empty when absent.
    pub qgmr: &'static str,
    /// First 8 digits of generated IMEIs (the type allocation code).
    pub imei_tac: &'static str,
    /// `AT+CMEE` after power-on / `AT&F`.
    pub cmee_default: u8,
    /// The CONNECT line of a successful packet-data dial.
    pub connect: &'static str,
    pub ccid: CcidStyle,
    pub cgauth_order: CgauthOrder,
    /// Fields after the APN in `+CGDCONT:` read lines.
    pub cgdcont_tail: &'static str,
    /// Vendor (non-3GPP) extended commands this model answers, with their
    /// prefix (`+`, Telit `#`, Huawei `^`).
    pub vendor_commands: &'static [&'static str],
    /// Quectel `AT+QCFG` keys and their factory values.
    pub qcfg: &'static [(&'static str, &'static str)],
    /// Simple stored settings `AT+<NAME>=<v>` / `AT+<NAME>?` -> `+<NAME>: <v>`
    /// that only this model has (e.g. SIMCom `+CNMP`).
    pub settings: &'static [(&'static str, &'static str)],
    /// URCs at power-on, before the SIM status line.
    pub boot_urcs: &'static [&'static str],
    /// URCs after the SIM becomes ready (after `+CPIN: READY`).
    pub sim_ready_urcs: &'static [&'static str],
    /// URCs when the SIM is pulled out.
    pub sim_removed_urcs: &'static [&'static str],
    pub radio: Radio,
    /// The USB product id in the factory composition.
    pub usb_pid: u16,
    /// The composition at the first power-on (`--usbnet` changes it).
    pub composition: Composition,
    /// How the composition is switched; `None`: it cannot be.
    pub usbnet: Option<UsbNet>,
    /// An `AT+CFUN=<fun>` besides `AT+CFUN=1,1` that resets the modem
    /// (u-blox 16).
    pub reset_fun: Option<u8>,
}

impl Profile {
    /// Does the model answer this vendor command (`"+QCCID"`, upper case)?
    pub fn supports(&self, command: &str) -> bool {
        self.vendor_commands.contains(&command)
    }

    /// Can the model present this composition?
    pub fn offers(&self, composition: Composition) -> bool {
        composition == self.composition
            || self
                .usbnet
                .is_some_and(|u| u.by_composition(composition).is_some())
    }

    /// The USB product id in a composition.
    pub fn pid(&self, composition: Composition) -> u16 {
        self.usbnet
            .and_then(|u| u.by_composition(composition))
            .and_then(|m| m.pid)
            .unwrap_or(self.usb_pid)
    }
}

/// Quectel `usbnet` values; the product id stays the model's.
const QUECTEL_USBNET: UsbNet = UsbNet {
    family: UsbNetFamily::Quectel,
    modes: &[
        usb_mode(Composition::Rmnet, 0, "", None),
        usb_mode(Composition::Ecm, 1, "", None),
        usb_mode(Composition::Mbim, 2, "", None),
        usb_mode(Composition::Rndis, 3, "", None),
    ],
};

/// SIMCom SIM7600: `AT+CUSBPIDSWITCH` names the product id itself.
const SIM7600_USBNET: UsbNet = UsbNet {
    family: UsbNetFamily::SimcomPid,
    modes: &[
        usb_mode(Composition::Rmnet, 0x9001, "", Some(0x9001)),
        usb_mode(Composition::Rndis, 0x9011, "", Some(0x9011)),
        usb_mode(Composition::Ecm, 0x9018, "", Some(0x9018)),
    ],
};

/// u-blox `AT+UUSBCONF` profiles.
const UBLOX_USBNET: UsbNet = UsbNet {
    family: UsbNetFamily::Ublox,
    modes: &[
        usb_mode(Composition::Serial, 0, "", Some(0x1141)),
        usb_mode(Composition::Ecm, 2, "ECM", Some(0x1143)),
        usb_mode(Composition::Rndis, 3, "RNDIS", Some(0x1146)),
    ],
};

/// Telit LE910Cx `AT#USBCFG` modes.
const TELIT_USBNET: UsbNet = UsbNet {
    family: UsbNetFamily::Telit,
    modes: &[
        usb_mode(Composition::Rmnet, 0, "", Some(0x1201)),
        usb_mode(Composition::Rndis, 1, "", Some(0x1203)),
        usb_mode(Composition::Mbim, 2, "", Some(0x1204)),
        usb_mode(Composition::Ecm, 3, "", Some(0x1206)),
    ],
};

const fn usb_mode(
    composition: Composition,
    code: u16,
    label: &'static str,
    pid: Option<u16>,
) -> UsbMode {
    UsbMode {
        composition,
        code,
        label,
        pid,
    }
}

const QUECTEL_COMMANDS: &[&str] = &[
    "+QCCID",
    "+QNWINFO",
    "+QCSQ",
    "+QSPN",
    "+QINDCFG",
    "+QCFG",
    "+QPINC",
    "+QURCCFG",
    "+QSIMSTAT",
    "+QGMR",
    "+QPOWD",
    "+QLTS",
    "+QNETDEVCTL",
];

const SIMCOM_COMMANDS: &[&str] = &[
    "+CICCID", "+CPSI", "+CNSMOD", "+AUTOCSQ", "+CNMP", "+CSPN", "+SPIC", "+CRESET",
];

/// SIM7600: the SIMCom set plus the composition switch and the QMI data call.
const SIM7600_COMMANDS: &[&str] = &[
    "+CICCID",
    "+CPSI",
    "+CNSMOD",
    "+AUTOCSQ",
    "+CNMP",
    "+CSPN",
    "+SPIC",
    "+CRESET",
    "+CUSBPIDSWITCH",
    "$QCRMCALL",
];

const SIM7080_COMMANDS: &[&str] = &[
    "+CPSI", "+CNSMOD", "+CNMP", "+CMNB", "+CSPN", "+SPIC", "+CRESET",
];

const QUECTEL_LTE_RADIO: Radio = Radio {
    act: 7,
    qnwinfo_act: "FDD LTE",
    qnwinfo_band: "LTE BAND 2",
    qcsq_mode: "LTE",
    cpsi_mode: "LTE",
    cpsi_band: "EUTRAN-BAND2",
    cpsi_units: CpsiUnits::Tenths,
    cpsi_bw: 5,
    earfcn: 900,
    cnsmod: 8,
};

const QUECTEL_QCFG: &[(&str, &str)] = &[
    ("nwscanmode", "0"),
    ("nwscanseq", "00"),
    ("roamservice", "255"),
    ("servicedomain", "2"),
];

const QUECTEL_BOOT: &[&str] = &["RDY", "+CFUN: 1"];
const QUECTEL_SIM_READY: &[&str] = &["+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"];
const QUECTEL_SIM_REMOVED: &[&str] = &["+CPIN: NOT READY"];

const SIMCOM_SIM_READY: &[&str] = &["SMS DONE", "PB DONE"];
const SIMCOM_SIM_REMOVED: &[&str] = &["+SIMCARD: NOT AVAILABLE"];

const SIMCOM_LTE_RADIO: Radio = Radio {
    act: 7,
    qnwinfo_act: "FDD LTE",
    qnwinfo_band: "LTE BAND 2",
    qcsq_mode: "LTE",
    cpsi_mode: "LTE",
    cpsi_band: "EUTRAN-BAND2",
    cpsi_units: CpsiUnits::Tenths,
    cpsi_bw: 5,
    earfcn: 900,
    cnsmod: 8,
};

/// A plain LTE radio for the models without Quectel or SIMCom vendor reads.
const PLAIN_LTE_RADIO: Radio = Radio {
    qnwinfo_band: "LTE BAND 20",
    cpsi_band: "EUTRAN-BAND20",
    earfcn: 6300,
    ..SIMCOM_LTE_RADIO
};

/// Every model the simulator knows.
pub static PROFILES: &[Profile] = &[
    Profile {
        key: "ec25",
        name: "EC25",
        vendor: Vendor::Quectel,
        manufacturer: "Quectel",
        model: "EC25",
        cgmr: "EC25EFAR06A06M4G",
        ati: &["Quectel", "EC25", "Revision: EC25EFAR06A06M4G"],
        qgmr: "EC25EFAR06A06M4G_01.001.01.001",
        imei_tac: "86692204",
        cmee_default: 1,
        connect: "CONNECT 150000000",
        ccid: CcidStyle::Prefixed,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: QUECTEL_COMMANDS,
        qcfg: QUECTEL_QCFG,
        settings: &[],
        boot_urcs: QUECTEL_BOOT,
        sim_ready_urcs: QUECTEL_SIM_READY,
        sim_removed_urcs: QUECTEL_SIM_REMOVED,
        radio: QUECTEL_LTE_RADIO,
        usb_pid: 0x0125,
        composition: Composition::Rmnet,
        usbnet: Some(QUECTEL_USBNET),
        reset_fun: None,
    },
    Profile {
        key: "eg95",
        name: "EG95",
        vendor: Vendor::Quectel,
        manufacturer: "Quectel",
        model: "EG95",
        cgmr: "EG95EFFAR02A08M4G",
        ati: &["Quectel", "EG95", "Revision: EG95EFFAR02A08M4G"],
        qgmr: "EG95EFFAR02A08M4G_01.001.01.001",
        imei_tac: "86425504",
        cmee_default: 1,
        connect: "CONNECT 150000000",
        ccid: CcidStyle::Prefixed,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: QUECTEL_COMMANDS,
        qcfg: QUECTEL_QCFG,
        settings: &[],
        boot_urcs: QUECTEL_BOOT,
        sim_ready_urcs: QUECTEL_SIM_READY,
        sim_removed_urcs: QUECTEL_SIM_REMOVED,
        radio: Radio {
            qnwinfo_band: "LTE BAND 3",
            cpsi_band: "EUTRAN-BAND3",
            earfcn: 1300,
            ..QUECTEL_LTE_RADIO
        },
        usb_pid: 0x0195,
        composition: Composition::Rmnet,
        usbnet: Some(QUECTEL_USBNET),
        reset_fun: None,
    },
    Profile {
        key: "ec21",
        name: "EC21",
        vendor: Vendor::Quectel,
        manufacturer: "Quectel",
        model: "EC21",
        cgmr: "EC21EFAR06A01M4G",
        ati: &["Quectel", "EC21", "Revision: EC21EFAR06A01M4G"],
        qgmr: "EC21EFAR06A01M4G_01.001.01.001",
        imei_tac: "86187903",
        cmee_default: 1,
        connect: "CONNECT 150000000",
        ccid: CcidStyle::Prefixed,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: QUECTEL_COMMANDS,
        qcfg: QUECTEL_QCFG,
        settings: &[],
        boot_urcs: QUECTEL_BOOT,
        sim_ready_urcs: QUECTEL_SIM_READY,
        sim_removed_urcs: QUECTEL_SIM_REMOVED,
        radio: Radio {
            qnwinfo_band: "LTE BAND 20",
            cpsi_band: "EUTRAN-BAND20",
            earfcn: 6300,
            ..QUECTEL_LTE_RADIO
        },
        usb_pid: 0x0121,
        composition: Composition::Rmnet,
        usbnet: Some(QUECTEL_USBNET),
        reset_fun: None,
    },
    Profile {
        key: "bg96",
        name: "BG96",
        vendor: Vendor::Quectel,
        manufacturer: "Quectel",
        model: "BG96",
        cgmr: "BG96MAR02A07M1G",
        ati: &["Quectel", "BG96", "Revision: BG96MAR02A07M1G"],
        qgmr: "BG96MAR02A07M1G_01.016.01.016",
        imei_tac: "86642503",
        cmee_default: 1,
        connect: "CONNECT 150000000",
        ccid: CcidStyle::Prefixed,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0",
        vendor_commands: QUECTEL_COMMANDS,
        qcfg: &[
            ("nwscanmode", "0"),
            ("nwscanseq", "020301"),
            ("iotopmode", "2"),
            ("roamservice", "255"),
            ("servicedomain", "1"),
        ],
        settings: &[],
        boot_urcs: QUECTEL_BOOT,
        sim_ready_urcs: QUECTEL_SIM_READY,
        sim_removed_urcs: QUECTEL_SIM_REMOVED,
        // Quectel numbers LTE Cat-M1 as AcT 8 in COPS/CEREG.
        radio: Radio {
            act: 8,
            qnwinfo_act: "CAT-M1",
            qnwinfo_band: "LTE BAND 12",
            qcsq_mode: "CAT-M1",
            cpsi_mode: "LTE CAT-M1",
            cpsi_band: "EUTRAN-BAND12",
            cpsi_units: CpsiUnits::Whole,
            cpsi_bw: 3,
            earfcn: 5110,
            cnsmod: 7,
        },
        usb_pid: 0x0296,
        composition: Composition::Serial,
        usbnet: None,
        reset_fun: None,
    },
    Profile {
        key: "sim7600",
        name: "SIM7600",
        vendor: Vendor::Simcom,
        manufacturer: "SIMCOM INCORPORATED",
        model: "SIMCOM_SIM7600G-H",
        cgmr: "+CGMR: LE20B04SIM7600M22",
        ati: &[
            "Manufacturer: SIMCOM INCORPORATED",
            "Model: SIMCOM_SIM7600G-H",
            "Revision: SIM7600M22_V2.0",
            "IMEI: {imei}",
            "+GCAP: +CGSM",
        ],
        qgmr: "",
        imei_tac: "86882204",
        cmee_default: 2,
        connect: "CONNECT 115200",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::PassUser,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: SIM7600_COMMANDS,
        qcfg: &[],
        settings: &[("+CNMP", "2")],
        boot_urcs: &["RDY"],
        sim_ready_urcs: SIMCOM_SIM_READY,
        sim_removed_urcs: SIMCOM_SIM_REMOVED,
        radio: SIMCOM_LTE_RADIO,
        usb_pid: 0x9001,
        composition: Composition::Rmnet,
        usbnet: Some(SIM7600_USBNET),
        reset_fun: None,
    },
    Profile {
        key: "sim7080",
        name: "SIM7080",
        vendor: Vendor::Simcom,
        manufacturer: "SIMCOM_Ltd",
        model: "SIMCOM_SIM7080G",
        cgmr: "Revision:1951B04SIM7080",
        ati: &["SIM7080 R1951.03"],
        qgmr: "",
        imei_tac: "86101505",
        cmee_default: 0,
        // The SIM70xx family prints a bare CONNECT for PPP.
        connect: "CONNECT",
        ccid: CcidStyle::Bare,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: SIM7080_COMMANDS,
        qcfg: &[],
        settings: &[("+CNMP", "2"), ("+CMNB", "1")],
        boot_urcs: &["RDY", "+CFUN: 1"],
        sim_ready_urcs: &["SMS Ready"],
        sim_removed_urcs: &["+CPIN: NOT READY"],
        radio: Radio {
            act: 7,
            qnwinfo_act: "CAT-M1",
            qnwinfo_band: "LTE BAND 12",
            qcsq_mode: "CAT-M1",
            cpsi_mode: "LTE CAT-M1",
            cpsi_band: "EUTRAN-BAND12",
            cpsi_units: CpsiUnits::Whole,
            cpsi_bw: 3,
            earfcn: 5110,
            cnsmod: 7,
        },
        usb_pid: 0x9205,
        composition: Composition::Serial,
        usbnet: None,
        reset_fun: None,
    },
    Profile {
        key: "a7600",
        name: "A7600",
        vendor: Vendor::Simcom,
        manufacturer: "SIMCOM INCORPORATED",
        model: "A7600E-H",
        cgmr: "+CGMR: A011B07A7600M7",
        ati: &[
            "Manufacturer: SIMCOM INCORPORATED",
            "Model: A7600E-H",
            "Revision: A7600M7_V1.0",
            "IMEI: {imei}",
            "+GCAP: +CGSM,+FCLASS,+DS",
        ],
        qgmr: "",
        imei_tac: "86200506",
        cmee_default: 2,
        connect: "CONNECT 115200",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::PassUser,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: SIMCOM_COMMANDS,
        qcfg: &[],
        settings: &[("+CNMP", "2")],
        boot_urcs: &["*ATREADY: 1"],
        sim_ready_urcs: SIMCOM_SIM_READY,
        sim_removed_urcs: SIMCOM_SIM_REMOVED,
        radio: Radio {
            qnwinfo_band: "LTE BAND 3",
            cpsi_band: "EUTRAN-BAND3",
            earfcn: 1300,
            ..SIMCOM_LTE_RADIO
        },
        usb_pid: 0x9011,
        composition: Composition::Rndis,
        usbnet: None,
        reset_fun: None,
    },
    Profile {
        key: "sim7672",
        name: "SIM7672",
        vendor: Vendor::Simcom,
        manufacturer: "SIMCOM INCORPORATED",
        model: "SIM7672G-MNGV",
        cgmr: "+CGMR: SIM7672M_V1.1",
        ati: &[
            "Manufacturer: SIMCOM INCORPORATED",
            "Model: SIM7672G-MNGV",
            "Revision: SIM7672M_V1.1",
            "IMEI: {imei}",
            "+GCAP: +CGSM,+FCLASS,+DS",
        ],
        qgmr: "",
        imei_tac: "86371107",
        cmee_default: 2,
        connect: "CONNECT 115200",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::PassUser,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: SIMCOM_COMMANDS,
        qcfg: &[],
        settings: &[("+CNMP", "2")],
        boot_urcs: &["*ATREADY: 1"],
        sim_ready_urcs: SIMCOM_SIM_READY,
        sim_removed_urcs: SIMCOM_SIM_REMOVED,
        radio: SIMCOM_LTE_RADIO,
        usb_pid: 0x9011,
        composition: Composition::Rndis,
        usbnet: None,
        reset_fun: None,
    },
    // Telit ME910C1: the ICCID only through `AT#CCID` (the simulated
    // firmware refuses `AT+CCID`, so the profile's command is what works),
    // `AT#WS46` (Cat-M1/NB-IoT choice) and `AT+WS46` stored as settings.
    Profile {
        key: "me910c1",
        name: "ME910C1",
        vendor: Vendor::Telit,
        manufacturer: "Telit",
        model: "ME910C1-WW",
        cgmr: "M0B.730006",
        ati: &["Telit", "ME910C1-WW", "M0B.730006"],
        qgmr: "",
        imei_tac: "35284910",
        cmee_default: 0,
        connect: "CONNECT",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0",
        vendor_commands: &["#CCID", "#WS46"],
        qcfg: &[],
        settings: &[("#WS46", "2"), ("+WS46", "25")],
        boot_urcs: &[],
        sim_ready_urcs: &[],
        sim_removed_urcs: &["#QSS: 0"],
        radio: PLAIN_LTE_RADIO,
        usb_pid: 0x1101,
        composition: Composition::Serial,
        usbnet: None,
        reset_fun: None,
    },
    // Telit LE910C1 (1bc7:1201): the ME910C1's command set plus the USB
    // composition switch `AT#USBCFG`, `AT#REBOOT` and the ECM data call.
    Profile {
        key: "le910c1",
        name: "LE910C1",
        vendor: Vendor::Telit,
        manufacturer: "Telit",
        model: "LE910C1-NF",
        cgmr: "25.21.660",
        ati: &["Telit", "LE910C1-NF", "25.21.660"],
        qgmr: "",
        imei_tac: "35420910",
        cmee_default: 0,
        connect: "CONNECT",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0",
        vendor_commands: &["#CCID", "#USBCFG", "#REBOOT", "#ECM", "#ECMD"],
        qcfg: &[],
        settings: &[("+WS46", "28")],
        boot_urcs: &[],
        sim_ready_urcs: &[],
        sim_removed_urcs: &["#QSS: 0"],
        radio: PLAIN_LTE_RADIO,
        usb_pid: 0x1201,
        composition: Composition::Rmnet,
        usbnet: Some(TELIT_USBNET),
        reset_fun: None,
    },
    // u-blox LARA-R6: `AT+CCID` (prefixed) and `AT+URAT` stored as a setting.
    Profile {
        key: "lara_r6",
        name: "LARA-R6",
        vendor: Vendor::Ublox,
        manufacturer: "u-blox",
        model: "LARA-R6001D",
        cgmr: "03.15",
        ati: &[
            "Manufacturer: u-blox",
            "Model: LARA-R6001D",
            "Revision: 03.15",
        ],
        qgmr: "",
        imei_tac: "35812210",
        cmee_default: 0,
        connect: "CONNECT",
        ccid: CcidStyle::Prefixed,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0,0,0",
        vendor_commands: &["+URAT", "+UUSBCONF"],
        qcfg: &[],
        settings: &[("+URAT", "4,3")],
        boot_urcs: &[],
        sim_ready_urcs: &[],
        sim_removed_urcs: &["+CIEV: 10,0"],
        radio: PLAIN_LTE_RADIO,
        usb_pid: 0x1141,
        composition: Composition::Serial,
        usbnet: Some(UBLOX_USBNET),
        reset_fun: Some(16),
    },
    // Huawei E3372 in stick mode: the ICCID only through `AT^ICCID?`, which
    // answers the raw EF_ICCID (nibbles swapped, `98...`), and `AT^SYSCFGEX`
    // stored as a setting.
    Profile {
        key: "e3372",
        name: "E3372",
        vendor: Vendor::Huawei,
        manufacturer: "huawei",
        model: "E3372",
        cgmr: "22.328.62.00.143",
        ati: &[
            "Manufacturer: huawei",
            "Model: E3372",
            "Revision: 22.328.62.00.143",
            "IMEI: {imei}",
            "+GCAP: +CGSM,+DS,+ES",
        ],
        qgmr: "",
        imei_tac: "86785202",
        cmee_default: 0,
        connect: "CONNECT",
        ccid: CcidStyle::Unsupported,
        cgauth_order: CgauthOrder::UserPass,
        cgdcont_tail: ",\"0.0.0.0\",0,0",
        vendor_commands: &["^ICCID", "^SYSCFGEX"],
        qcfg: &[],
        settings: &[("^SYSCFGEX", "\"00\",3FFFFFFF,1,2,7FFFFFFFFFFFFFFF,,")],
        boot_urcs: &[],
        sim_ready_urcs: &["^SIMST: 1"],
        sim_removed_urcs: &["^SIMST: 255"],
        radio: PLAIN_LTE_RADIO,
        usb_pid: 0x1506,
        composition: Composition::Serial,
        usbnet: None,
        reset_fun: None,
    },
];

/// The profile for a `--model` value (case-insensitive).
pub fn by_key(key: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.key.eq_ignore_ascii_case(key))
}

/// The `--model` values, for usage text and error messages.
pub fn keys() -> Vec<&'static str> {
    PROFILES.iter().map(|p| p.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_lower_case_and_cover_the_interface() {
        let keys = keys();
        for required in [
            "ec25", "eg95", "bg96", "ec21", "sim7600", "sim7080", "a7600", "sim7672", "me910c1",
            "lara_r6", "e3372",
        ] {
            assert!(keys.contains(&required), "missing {required}");
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(k.to_ascii_lowercase(), *k);
            assert!(!keys[i + 1..].contains(k), "duplicate {k}");
        }
    }

    #[test]
    fn profiles_are_consistent() {
        for p in PROFILES {
            assert_eq!(p.imei_tac.len(), 8, "{}", p.key);
            assert!(p.imei_tac.bytes().all(|b| b.is_ascii_digit()));
            assert!(p.cmee_default <= 2);
            assert!(p.connect.starts_with("CONNECT"));
            assert!(!p.ati.is_empty());
            for c in p.vendor_commands {
                assert!(
                    (c.starts_with('+')
                        || c.starts_with('#')
                        || c.starts_with('^')
                        || c.starts_with('$'))
                        && c.to_ascii_uppercase() == *c,
                    "{c}"
                );
            }
            // Quectel models answer the Quectel set, SIMCom ones never do.
            assert_eq!(
                p.supports("+QCCID"),
                p.vendor == Vendor::Quectel,
                "{}",
                p.key
            );
            assert_eq!(p.supports("+CPSI"), p.vendor == Vendor::Simcom, "{}", p.key);
            // The factory composition is one the switch accepts, and every
            // mode is reachable by its code and its composition.
            assert!(p.offers(p.composition), "{}", p.key);
            if let Some(u) = p.usbnet {
                assert!(u.by_composition(p.composition).is_some(), "{}", p.key);
                for m in u.modes {
                    assert_eq!(u.by_code(m.code), Some(m), "{}", p.key);
                    assert_eq!(u.by_composition(m.composition), Some(m), "{}", p.key);
                }
            }
        }
    }

    #[test]
    fn usb_compositions_and_product_ids() {
        let pid = |key: &str, c: Composition| by_key(key).map(|p| p.pid(c));
        assert_eq!(pid("ec25", Composition::Ecm), Some(0x0125));
        assert_eq!(pid("sim7600", Composition::Rmnet), Some(0x9001));
        assert_eq!(pid("sim7600", Composition::Rndis), Some(0x9011));
        assert_eq!(pid("sim7600", Composition::Ecm), Some(0x9018));
        assert_eq!(pid("lara_r6", Composition::Rndis), Some(0x1146));
        assert_eq!(pid("le910c1", Composition::Ecm), Some(0x1206));
        assert_eq!(
            by_key("a7600").map(|p| p.composition),
            Some(Composition::Rndis)
        );
        assert!(by_key("bg96").is_some_and(|p| p.usbnet.is_none() && !p.offers(Composition::Ecm)));
        for c in Composition::ALL {
            assert_eq!(Composition::parse(c.name()), Some(c));
        }
        assert_eq!(Composition::parse("ncm"), None);
    }
}

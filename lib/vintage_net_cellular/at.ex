defmodule VintageNetCellular.AT do
  @moduledoc """
  Parses one AT information-response or URC line into a kind and a map of
  typed fields.

  Parsing runs in Rust (`cellular_core::at`); a call costs about a microsecond
  or less (`mix run bench/at_parse_bench.exs` prints the figures next to a
  plain-Elixir parser). `parse/1` never raises, whatever it is given: bad input gives
  `{:error, {reason, detail}}` where `detail` names the field or byte that was
  wrong.

      iex> VintageNetCellular.AT.parse("+CSQ: 17,99\\r\\n")
      {:ok, {:csq, %{rssi: 17, ber: 99}}}

      iex> VintageNetCellular.AT.parse("+CSQ: 17,x")
      {:error, {:invalid_field, ~s|csq: <ber> (field 2) is not an integer: "x"|}}

  ## Input

  One line, with or without its CR/LF. White space around fields is ignored
  (`+CSQ:17,99`, `+CSQ: 17, 99 `), prefixes match in any letter case (`+csq:`),
  fields may be quoted or not. Lines longer than 4096 bytes, lines that are
  not UTF-8 and lines with control characters are refused.

  ## Kinds

  | kind | lines | fields |
  |---|---|---|
  | `:csq` | `+CSQ` | `rssi` 0..31 or 99, `ber` 0..7 or 99 (raw; see `VintageNetCellular.Signal.from_gsm_asu/1`) |
  | `:cesq` | `+CESQ` | `rxlev` 0..63/99, `ber` 0..7/99, `rscp` 0..96/255, `ecno` 0..49/255, `rsrq` 0..34/255, `rsrp` 0..97/255 (raw; 99/255 unknown; see `VintageNetCellular.Signal.from_cesq/2`) |
  | `:creg` | `+CREG` | `stat`, `lac`, `ci`, `act`, `cause_type`, `reject_cause` |
  | `:cgreg` | `+CGREG` | as `:creg`, plus `rac` |
  | `:cereg` | `+CEREG` | as `:creg` (`lac` holds the TAC), plus `tac`, `active_time`, `periodic_tau` |
  | `:c5greg` | `+C5GREG` | as `:creg` (`lac` holds the TAC), plus `tac`, `allowed_nssai` |
  | `:cops` | `+COPS` (read form) | `mode`, `format`, `operator`, `act`, `mcc`, `mnc` |
  | `:cpin` | `+CPIN` | `state` |
  | `:iccid` | `+CCID`, `+ICCID`, `+QCCID`, `^ICCID`, `+CICCID`, `!ICCID`, `ICCID`, `#CCID` | `iccid` |
  | `:cgdcont` | `+CGDCONT` | `cid`, `pdp_type`, `apn` |
  | `:cgauth` | `+CGAUTH` | `cid`, `auth`, `username` (never the password) |
  | `:cme_error` | `+CME ERROR` | `code`, `message` |
  | `:cms_error` | `+CMS ERROR` | `code`, `message` |
  | `:qnwinfo` | Quectel `+QNWINFO` | `service`, `act`, `operator`, `mcc`, `mnc`, `band`, `channel` |
  | `:qcsq` | Quectel `+QCSQ` | `sysmode`, `rssi`, `rsrp`, `sinr`, `sinr_raw`, `rsrq`, `rscp`, `ecio`, `values` |
  | `:cpsi` | SIMCom `+CPSI` | `system_mode`, `operation_mode`, `mcc`, `mnc`, `lac`, `tac`, `cell_id`, `pci`, `psc`, `band`, `channel`, `dl_bandwidth`, `ul_bandwidth`, `rsrp`, `rsrq`, `rssi`, `sinr`, `rxlev`, `rscp`, `ecio` |
  | `:ctzv` | `+CTZV` (`AT+CTZR=1`) | `tz`, `dst` |
  | `:ctze` | `+CTZE` (`AT+CTZR=2`) | `tz`, `dst`, `time` (local) |
  | `:qlts` | Quectel `+QLTS` (`AT+QLTS`) | `tz`, `dst`, `time` (UTC) |
  | `:unknown` | any other `<sigil><NAME>: ...` line (sigils `+ ^ ! # $ % *`) | `prefix` (upper-cased), `fields` (strings, quotes removed) |

  Every map of a kind has all of that kind's keys; a value the line does not
  carry is `nil`. Test-command answers of known commands
  (`+CSQ: (0-31,99),(0-7,99)`) come back as `:unknown`.

  ### Registration: `:creg`, `:cgreg`, `:cereg`, `:c5greg`

  | field | type | meaning |
  |---|---|---|
  | `stat` | `t:stat/0` | 27.007 `<stat>` 0..11 |
  | `lac` | integer or nil | location area code (CREG/CGREG) or tracking area code (CEREG/C5GREG), from hex |
  | `tac` | integer or nil | CEREG/C5GREG only: the same value as `lac`, under its LTE/NR name |
  | `ci` | integer or nil | cell identity, from hex (28-bit ECI on LTE, 36-bit NCI on NR) |
  | `act` | `t:act/0` or nil | 27.007 `<AcT>` 0..13; nil when absent or not one of those numbers |
  | `cause_type`, `reject_cause` | integer or nil | the reject cause fields (`AT+CREG=3`) |
  | `rac` | integer or nil | CGREG only: routing area code |
  | `active_time`, `periodic_tau` | string or nil | CEREG only: the PSM timers as the bit strings the modem sent |
  | `allowed_nssai` | string or nil | C5GREG only |

  The area code is `lac` in all four kinds so that code reading the registration
  does not need to care which command answered; CEREG and C5GREG also carry it as
  `tac`. Both forms parse: the read answer `+CREG: <n>,<stat>[,...]` and the URC
  `+CREG: <stat>[,...]` (also URCs that carry `<n>`). Which one a line is follows
  from its quoting and field count: `+CREG: 1,"00C3","0B2D3F0",7` is a URC,
  `+CREG: 2,1,"00C3","0B2D3F0",7` and `+CREG: 0,1` are read answers, `+CREG: 5` is
  a URC. Unquoted lines are told apart by the width of the second field (a
  LAC/TAC has four hex digits, a `<stat>` one) and by which reading fits the
  command's layout.

      iex> VintageNetCellular.AT.parse(~s(+CREG: 1,"00C3","0B2D3F0",7))
      {:ok,
       {:creg,
        %{stat: :registered_home, lac: 0xC3, ci: 0xB2D3F0, act: :eutran, cause_type: nil, reject_cause: nil}}}

      iex> {:ok, {:cereg, reg}} = VintageNetCellular.AT.parse(~s(+CEREG: 2,5,"1A2B","01A2D301",9))
      iex> {reg.stat, reg.tac, reg.act}
      {:registered_roaming, 0x1A2B, :eutran_nb_s1}

      iex> VintageNetCellular.AT.parse("+CGREG: 0,1")
      {:ok, {:cgreg, %{stat: :registered_home, lac: nil, ci: nil, act: nil, rac: nil, cause_type: nil, reject_cause: nil}}}

  ### `:cops`

  | field | type | meaning |
  |---|---|---|
  | `mode` | 0..4 | 0 automatic, 1 manual, 2 deregistered, 3 format only, 4 manual/automatic |
  | `format` | 0..2 or nil | 0 long name, 1 short name, 2 numeric |
  | `operator` | string or nil | as sent; a numeric operator stays digits (`"00101"` keeps its zeros); nil for `+COPS: 0` |
  | `act` | `t:act/0` or nil | access technology |
  | `mcc`, `mnc` | string or nil | split from a numeric operator (3 + 2 or 3 digits) |

      iex> VintageNetCellular.AT.parse(~s(+COPS: 0,2,"310410",7))
      {:ok, {:cops, %{mode: 0, format: 2, operator: "310410", act: :eutran, mcc: "310", mnc: "410"}}}

  ### `:cpin`

  `state` is the code text lowercased with spaces and dashes turned into
  underscores: `:ready`, `:sim_pin`, `:sim_puk`, `:ph_sim_pin`, `:ph_fsim_pin`,
  `:ph_fsim_puk`, `:sim_pin2`, `:sim_puk2`, `:ph_net_pin`, `:ph_net_puk`,
  `:ph_netsub_pin`, `:ph_netsub_puk`, `:ph_sp_pin`, `:ph_sp_puk`, `:ph_corp_pin`,
  `:ph_corp_puk` (27.007), and `:not_inserted`, `:not_ready`, `:sim_removed`,
  `:sim_not_inserted` (sent by real modems). Other text is an error: no atom is
  ever made from modem input.

      iex> VintageNetCellular.AT.parse("+CPIN: PH-NET PIN")
      {:ok, {:cpin, %{state: :ph_net_pin}}}

  ### `:cpinr`, `:qpinc` and `:spic`

  The attempts left before the SIM locks. `:cpinr` (27.007 `AT+CPINR`):
  `code` (`:sim_pin`, `:sim_puk`, `:sim_pin2`, `:sim_puk2`, or `:other`),
  `retries` and `default_retries` (or nil). `:qpinc` (Quectel `AT+QPINC`):
  `facility` as sent (`"SC"` is the SIM PIN), `pin` and `puk`. `:spic`
  (SIMCom `AT+SPIC`): `pin`, `puk`, `pin2` and `puk2` (nil when left out).

      iex> VintageNetCellular.AT.parse(~s(+CPINR: "SIM PIN",2,3))
      {:ok, {:cpinr, %{code: :sim_pin, retries: 2, default_retries: 3}}}

      iex> VintageNetCellular.AT.parse(~s(+QPINC: "SC",3,10))
      {:ok, {:qpinc, %{facility: "SC", pin: 3, puk: 10}}}

      iex> VintageNetCellular.AT.parse("+SPIC: 1,10,3,10")
      {:ok, {:spic, %{pin: 1, puk: 10, pin2: 3, puk2: 10}}}

  ### `:iccid`

  The ICCID as a string, normalized: quotes and spaces stripped, hex letters
  upper-cased, a 20-character value starting with `98` un-swapped (a raw BCD dump,
  as Huawei sends), trailing `F` padding dropped. The first 7 characters (`89`,
  country code, issuer) must be decimal digits; after them hex digits are
  accepted (some issuers use them). Anything else, or a length outside 18..22,
  is an error naming the character and its position.

      iex> VintageNetCellular.AT.parse("^ICCID: 98101430121181157002")
      {:ok, {:iccid, %{iccid: "89014103211118510720"}}}

      iex> VintageNetCellular.AT.parse("+QCCID: 8901260852290847433F")
      {:ok, {:iccid, %{iccid: "8901260852290847433"}}}

  ### `:cgdcont` and `:cgauth`

  `:cgdcont`: `cid` (integer), `pdp_type` (string as sent, e.g. `"IPV4V6"`, or
  nil), `apn` (string, nil when empty). `:cgauth`: `cid`, `auth` (`:none`, `:pap`,
  `:chap` or `:pap_or_chap` for 0..3), `username` (string or nil). The password
  field is never read, so it can appear neither in the result nor in an error.
  Unknown vendor lines that carry credentials (`+QICSGP`, `+CSTT`,
  `+UAUTHREQ`, `$QCPDPP`) have those fields replaced by `"[redacted]"`.

      iex> VintageNetCellular.AT.parse(~s(+CGAUTH: 1,1,"user","secret"))
      {:ok, {:cgauth, %{cid: 1, auth: :pap, username: "user"}}}

  ### `:cme_error` and `:cms_error`

  `code` (integer or nil) and `message` (string or nil). The numeric form gives
  the code and the standard 27.007/27.005 text for it (nil for codes outside the
  standard tables); the text form (`AT+CMEE=2`) gives the modem's text and the
  code of that text when it is a standard one.

      iex> VintageNetCellular.AT.parse("+CME ERROR: 10")
      {:ok, {:cme_error, %{code: 10, message: "SIM not inserted"}}}

      iex> VintageNetCellular.AT.parse("+CME ERROR: SIM not inserted")
      {:ok, {:cme_error, %{code: 10, message: "SIM not inserted"}}}

  ### `:qnwinfo` (Quectel)

  | field | type | meaning |
  |---|---|---|
  | `service` | boolean | false for `+QNWINFO: No Service` (then every other field is nil) |
  | `act` | string or nil | access technology as sent: `"FDD LTE"`, `"TDD NR5G"`, `"EDGE"`, `"eMTC"` |
  | `operator` | string or nil | numeric operator as sent |
  | `mcc`, `mnc` | string or nil | split from `operator`, leading zeros kept |
  | `band` | string or nil | band as sent: `"LTE BAND 12"` |
  | `channel` | integer or nil | (E/U/NR-)ARFCN |

      iex> VintageNetCellular.AT.parse(~s(+QNWINFO: "FDD LTE","310410","LTE BAND 12",5110))
      {:ok,
       {:qnwinfo,
        %{service: true, act: "FDD LTE", operator: "310410", mcc: "310", mnc: "410", band: "LTE BAND 12", channel: 5110}}}

  ### `:qcsq` (Quectel)

  | field | type | meaning |
  |---|---|---|
  | `sysmode` | string | as sent: `"LTE"`, `"CAT-M1"`, `"CAT-NB1"`, `"eMTC"`, `"NBIoT"`, `"WCDMA"`, `"GSM"`, `"NOSERVICE"` |
  | `rssi` | integer or nil | dBm; an LTE-family RSSI sent as a positive magnitude (EG21-G) is negated |
  | `rsrp` | integer or nil | LTE family: dBm |
  | `sinr` | integer or nil | LTE family: dB, from Quectel's code: `sinr_raw / 5 - 20`, rounded (0..250 is -20..+30 dB) |
  | `sinr_raw` | integer or nil | LTE family: the code as sent |
  | `rsrq` | integer or nil | LTE family: dB |
  | `rscp` | integer or nil | WCDMA/TDSCDMA: dBm |
  | `ecio` | integer or nil | WCDMA/TDSCDMA/CDMA/HDR: as sent |
  | `values` | [integer] | every value after `sysmode`, in order (also for modes not decoded, such as NR5G) |

      iex> {:ok, {:qcsq, q}} = VintageNetCellular.AT.parse(~s(+QCSQ: "LTE",-52,-81,195,-10))
      iex> Map.take(q, [:rssi, :rsrp, :sinr, :sinr_raw, :rsrq])
      %{rssi: -52, rsrp: -81, sinr: 19, sinr_raw: 195, rsrq: -10}

  ### `:cpsi` (SIMCom)

  One map shape for every system mode, nil where the mode has no such field:

  | field | type | meaning |
  |---|---|---|
  | `system_mode` | string | as sent: `"LTE"`, `"LTE CAT-M1"`, `"LTE NB-IOT"`, `"GSM"`, `"WCDMA"`, `"NO SERVICE"` |
  | `operation_mode` | string or nil | as sent: `"Online"`, `"Low Power Mode"` |
  | `mcc`, `mnc` | string or nil | from `<MCC>-<MNC>`, leading zeros kept |
  | `lac` | integer or nil | area code (the TAC on LTE) |
  | `tac` | integer or nil | LTE only |
  | `cell_id` | integer or nil | cell identity |
  | `pci` | integer or nil | LTE physical cell id |
  | `psc` | integer or nil | WCDMA primary scrambling code |
  | `band` | string or nil | as sent: `"EUTRAN-BAND12"`, `"EGSM 900"` |
  | `channel` | integer or nil | EARFCN/UARFCN/ARFCN |
  | `dl_bandwidth`, `ul_bandwidth` | integer or nil | LTE bandwidth codes as sent |
  | `rsrp`, `rsrq`, `rssi` | integer or nil | LTE, whole dBm/dB. SIM7600-family modems send tenths (`-672` for -67.2 dBm); an RSRP below -200 marks a line as tenths and the three are divided by ten and rounded |
  | `sinr` | integer or nil | LTE RSSNR, dB |
  | `rxlev` | integer or nil | GSM RX level (dBm) or WCDMA RXLEV, as sent |
  | `rscp`, `ecio` | integer or nil | WCDMA, as sent (`ecio` rounded to whole dB) |

      iex> {:ok, {:cpsi, c}} =
      ...>   VintageNetCellular.AT.parse("+CPSI: LTE,Online,310-410,0x4F1B,26140801,318,EUTRAN-BAND12,5110,3,3,-11,-88,-61,15")
      iex> Map.take(c, [:mcc, :mnc, :tac, :cell_id, :band, :channel, :rsrp, :rsrq, :sinr])
      %{mcc: "310", mnc: "410", tac: 0x4F1B, cell_id: 26_140_801, band: "EUTRAN-BAND12", channel: 5110, rsrp: -88, rsrq: -11, sinr: 15}

  ### Network time: `:ctzv`, `:ctze`, `:qlts`

  | field | type | meaning |
  |---|---|---|
  | `tz` | integer (quarter hours) or nil | the local time zone **including** daylight saving time: `32` is UTC+8, `-16` UTC-4 |
  | `dst` | 0..2 or nil | hours of daylight saving time inside `tz`; nil when the line has none (27.007 `+CTZV`) |
  | `time` | `%{year, month, day, hour, minute, second}` or nil | `:ctze`: the **local** time (27.007 §8.41); `:qlts`: **UTC** (the answer of `AT+QLTS` and `AT+QLTS=1`); `:ctzv` has none |

  Ranges are checked (month 1..12, hour 0..23, ...); whether the day exists in
  its month is left to `NaiveDateTime.new/6`. `+QLTS: ""` (no network time
  yet) gives every field nil.

      iex> VintageNetCellular.AT.parse(~s(+CTZE: "+32",0,"2016/04/22,09:07:38"))
      {:ok, {:ctze, %{tz: 32, dst: 0, time: %{year: 2016, month: 4, day: 22, hour: 9, minute: 7, second: 38}}}}

      iex> VintageNetCellular.AT.parse(~s(+QLTS: "2020/03/13,13:21:36-16,1"))
      {:ok, {:qlts, %{tz: -16, dst: 1, time: %{year: 2020, month: 3, day: 13, hour: 13, minute: 21, second: 36}}}}

  ### `:unknown`

      iex> VintageNetCellular.AT.parse(~s(+QIND: "csq",21,99))
      {:ok, {:unknown, %{prefix: "+QIND", fields: ["csq", "21", "99"]}}}

  ## Errors

  `{:error, {reason, detail}}` with `detail` a sentence naming the field or byte:

  | reason | meaning |
  |---|---|
  | `:empty` | nothing but white space |
  | `:too_long` | more than 4096 bytes |
  | `:invalid_utf8` | not UTF-8 (names the byte and offset) |
  | `:control_byte` | a control character inside the line |
  | `:no_prefix` | no `+XXX:`-style prefix (`OK`, a bare IMEI) |
  | `:bad_prefix` | a prefix with characters a prefix cannot have, or no `:` |
  | `:unterminated_quote` | a `"` never closed |
  | `:missing_field` | a required field is absent or empty |
  | `:invalid_field` | a field has the wrong form or is out of range |
  | `:extra_field` | more fields than the kind has |
  | `:not_a_binary` | the argument is not a binary |
  | `:native_error` | the native library is not loaded (the detail says how to build it) |

      iex> VintageNetCellular.AT.parse("OK")
      {:error, {:no_prefix, "the line starts with 'O' (0x4F) instead of a +XXX: style prefix"}}

      iex> VintageNetCellular.AT.parse(<<"+CSQ: 1", 0xFF, ",99">>)
      {:error, {:invalid_utf8, "byte 0xFF at offset 7 is not valid UTF-8"}}

      iex> VintageNetCellular.AT.parse(:csq)
      {:error, {:not_a_binary, "expected a binary, got: :csq"}}
  """

  alias VintageNetCellular.Native

  @typedoc "The kinds of line `parse/1` recognizes."
  @type kind ::
          :csq
          | :cesq
          | :creg
          | :cgreg
          | :cereg
          | :c5greg
          | :cops
          | :cpin
          | :iccid
          | :cgdcont
          | :cgauth
          | :cme_error
          | :cms_error
          | :qnwinfo
          | :qcsq
          | :cpsi
          | :ctzv
          | :ctze
          | :qlts
          | :unknown

  @typedoc "A parsed line: its kind and fields, as `parse/1` gives them in `{:ok, parsed}`."
  @type parsed :: {kind(), map()}

  @typedoc "27.007 registration status (`<stat>` 0..11)."
  @type stat ::
          :not_registered
          | :registered_home
          | :searching
          | :denied
          | :unknown
          | :registered_roaming
          | :sms_only_home
          | :sms_only_roaming
          | :emergency_only
          | :csfb_not_preferred_home
          | :csfb_not_preferred_roaming
          | :attached_rlos

  @typedoc "27.007 access technology (`<AcT>` 0..13)."
  @type act ::
          :gsm
          | :gsm_compact
          | :utran
          | :gsm_egprs
          | :utran_hsdpa
          | :utran_hsupa
          | :utran_hsdpa_hsupa
          | :eutran
          | :ec_gsm_iot
          | :eutran_nb_s1
          | :eutra_5gcn
          | :nr_5gcn
          | :ng_ran
          | :eutra_nr

  @typedoc "Why a line could not be parsed."
  @type reason ::
          :empty
          | :too_long
          | :invalid_utf8
          | :control_byte
          | :no_prefix
          | :bad_prefix
          | :unterminated_quote
          | :missing_field
          | :invalid_field
          | :extra_field
          | :not_a_binary
          | :native_error

  @doc """
  Parses one AT response or URC line. See the module documentation for the
  kinds, their fields and the errors. Never raises.

      iex> VintageNetCellular.AT.parse("+CEREG: 5")
      {:ok,
       {:cereg,
        %{
          stat: :registered_roaming,
          lac: nil,
          tac: nil,
          ci: nil,
          act: nil,
          cause_type: nil,
          reject_cause: nil,
          active_time: nil,
          periodic_tau: nil
        }}}
  """
  @spec parse(term()) :: {:ok, parsed()} | {:error, {reason() | atom(), String.t()}}
  def parse(line) when is_binary(line) do
    Native.at_parse(line)
  rescue
    e -> {:error, {:native_error, Exception.message(e)}}
  end

  def parse(other), do: {:error, {:not_a_binary, "expected a binary, got: " <> inspect(other, limit: 5)}}
end

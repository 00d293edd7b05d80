defmodule VintageNetCellular.Monitor.Facts do
  @moduledoc """
  What a modem has told the monitor, and the properties that follow from it.

  Pure: `observe/2` takes one parsed AT line (a response or a URC, as
  `VintageNetCellular.AT.parse/1` returns it), `put_identity/3` one identity
  string, and `properties/2` derives the whole map of the monitor's
  properties from what was observed. The monitor process writes that map
  with `VintageNetCellular.PropertyWriter` and deletes the keys the map
  lacks, so the property table always equals `properties/2`.

  ## Absent or nil

  Nothing is made up. A key is **absent** when the fact does not apply now,
  and **nil** when it applies but the modem does not report it:

  | situation | keys |
  |---|---|
  | identity not read yet | `manufacturer`, `model`, `revision`, `imei` absent (each until read) |
  | no registration seen yet | `registration` and everything below absent |
  | not registered (searching, denied, no SIM, ...) | `roaming`, `mcc`, `mnc`, `provider`, `network`, `access_technology`, `radio`, `lac`, `tac`, `cid`, `band`, `channel` absent |
  | registered, operator not read yet | `mcc`, `mnc`, `provider`, `network` absent |
  | registered, MCC/MNC not in the operator table | `provider` nil |
  | registered, the modem gives no operator name | `network` nil |
  | registered on a domain that reports no location | `lac` / `tac` / `cid` nil |
  | no vendor cell report (generic modems) | `band`, `channel` absent |
  | no signal reading yet | the six `signal_*` keys absent |
  | SIM state unknown: no registration, no reject cause and no SIM removal seen (or denied without a cause) | `sim_rej_info` absent |
  | no network time seen yet | `network_datetime`, `utc_offset`, `std_offset` absent |
  | network time without a date (`+CTZV`, `+CTZE` without `<time>`) | `network_datetime` absent (or the last one kept) |
  | zone without its DST part (`+CTZV`) | `std_offset` nil, `utc_offset` the whole offset |
  | signal unknown, or not an LTE-family radio | see `VintageNetCellular.Monitor.SignalRules` (nil) |

  A SIM that disappears (`+CPIN: NOT READY`, `NOT INSERTED`, ...) drops what
  was known about registration, operator and cell, since none of it holds
  without a SIM; a registration line that says "registered" brings them back.

  ## Sources

  * `registration`: `VintageNetCellular.Connection.Registration.summary/1`
    over the latest `+CREG`/`+CGREG`/`+CEREG`/`+C5GREG` (the same rule the
    connection manager applies); `roaming`: whether a registered domain says
    roaming.
  * `mcc`, `mnc`: `+COPS` numeric format first, then the vendor cell report
    (`+QNWINFO`, `+CPSI`). Strings, leading zeros kept.
  * `provider`: `VintageNetCellular.Operators.provider_name/2` of MCC/MNC.
  * `network`: `+COPS` long alphanumeric name (else the short one).
  * `access_technology`: the vendor's text (`"FDD LTE"`, `"LTE CAT-M1"`),
    else the 27.007 name of the registration AcT (`+C5GREG`, `+CEREG`,
    `+CGREG`, `+CREG`), else of the `+COPS` AcT.
  * `radio`: `VintageNetCellular.Monitor.Radio` of the vendor text, else of
    the registration AcT (`+C5GREG`, `+CEREG`, `+CGREG`, `+CREG`), else of
    the `+COPS` AcT.
  * `lac`: `+CGREG`/`+CREG` (`n=2`), else the vendor report, else the
    `tac` (so that `lac` is filled on LTE for dashboards that read only
    `lac`); `tac`: `+C5GREG`/`+CEREG`, else the vendor report; `cid`: the
    registered domain of the current radio first, else the vendor report.
  * `band`, `channel`: the vendor cell report.
  * signal: `VintageNetCellular.Monitor.SignalRules`.
  * `sim_rej_info`, with vintage_net_qmi's values: `:cs_invalid`,
    `:ps_invalid` or `:cs_ps_invalid` when a registration line carries a
    3GPP reject cause after which the SIM is invalid for those services
    (#2 CS; #3, #6, #8 both; #7 PS), else `:not_available` after the SIM
    went away (`+CPIN: NOT INSERTED`, ...), else `:available` when a domain
    is registered or was rejected for a cause that leaves the SIM valid
    (#11, #15, ...). The causes come with `n=3` lines, which the monitor
    reads after a denial (see `VintageNetCellular.Monitor`).
  * `network_datetime` (a `NaiveDateTime` in UTC), `utc_offset`,
    `std_offset` (seconds, split as `Calendar` and vintage_net_qmi split
    them: `utc_offset + std_offset` is the local offset): the latest
    `+CTZE` (local time minus the zone), Quectel `+QLTS` (UTC) or `+CTZV`
    (zone only). They describe the last network time seen and outlive
    deregistration.

      iex> alias VintageNetCellular.Monitor.Facts
      iex> facts =
      ...>   Facts.new()
      ...>   |> Facts.observe({:cereg, %{stat: :registered_home, lac: 0x1A2B, tac: 0x1A2B, ci: 0x1A2D301, act: :eutran}})
      ...>   |> Facts.observe({:cops, %{mode: 0, format: 2, operator: "310410", act: :eutran, mcc: "310", mnc: "410"}})
      iex> props = Facts.properties(facts, fn "310", "410" -> "AT&T" end)
      iex> {props["mcc"], props["mnc"], props["provider"], props["radio"], props["tac"]}
      {"310", "410", "AT&T", :lte, 6699}
  """

  alias VintageNetCellular.Connection.Registration
  alias VintageNetCellular.Monitor.Radio
  alias VintageNetCellular.Monitor.SignalRules

  @identity_keys ["manufacturer", "model", "revision", "imei"]
  @registration_keys ["registration", "roaming"]
  @network_keys ["mcc", "mnc", "provider", "network", "access_technology", "radio"]
  @cell_keys ["lac", "tac", "cid", "band", "channel"]
  @signal_keys ["signal_asu", "signal_dbm", "signal_4bars", "signal_rsrp", "signal_rsrq", "signal_sinr"]
  @time_keys ["network_datetime", "utc_offset", "std_offset"]
  @owned @identity_keys ++
           @registration_keys ++ @network_keys ++ @cell_keys ++ @signal_keys ++ @time_keys ++ ["sim_rej_info"]

  @domains [:creg, :cgreg, :cereg, :c5greg]
  @registered [
    :registered_home,
    :registered_roaming,
    :sms_only_home,
    :sms_only_roaming,
    :csfb_not_preferred_home,
    :csfb_not_preferred_roaming
  ]
  @roaming [:registered_roaming, :sms_only_roaming, :csfb_not_preferred_roaming]
  @sim_gone [:not_ready, :not_inserted, :sim_not_inserted, :sim_removed]

  defstruct identity: %{}, reg: %{}, operator: nil, vendor: nil, signal: %{}, clock: nil, sim_gone?: false

  @typedoc "Identity key: `\"manufacturer\"`, `\"model\"`, `\"revision\"` or `\"imei\"`."
  @type identity_key :: String.t()

  @typedoc "A parsed AT line, as `VintageNetCellular.AT.parse/1` returns it inside `{:ok, _}`."
  @type parsed :: {atom(), map()}

  @typedoc """
  What a vendor's own report line stands for, in terms that name no vendor
  (a profile's `c:VintageNetCellular.ModemProfile.report_facts/1` turns its
  reports into these):

  * `{:serving_cell, cell}`: the serving cell as the modem reports it
    (`act` text, `mcc`, `mnc`, `lac`, `tac`, `cid`, `band`, `channel`; any may
    be nil), or `nil` for "no service";
  * `{:lte_measurement, m}`: the modem's own LTE measurement (`rssi`, `rsrp`,
    `rsrq`, `sinr`, whole dBm/dB), or `nil` when it is not on LTE;
  * `{:measured_radio, text}`: the radio the modem says it measures on, as
    text (`"LTE"`, `"CAT-M1"`, `"WCDMA"` ...; see `VintageNetCellular.Monitor.Radio`);
  * `{:network_time, %{tz: tz, dst: dst, utc: time}}`: the network's time in UTC
    (`time` as `VintageNetCellular.AT` gives it, or nil), its zone in quarter hours
    and the DST hours in it (either may be nil).
  """
  @type report ::
          {:serving_cell, map() | nil}
          | {:lte_measurement, map() | nil}
          | {:measured_radio, String.t()}
          | {:network_time, %{tz: integer() | nil, dst: integer() | nil, utc: map() | nil}}

  @typedoc "Maps MCC and MNC strings to a provider name (nil when unknown)."
  @type lookup :: (String.t(), String.t() -> String.t() | nil)

  @type t :: %__MODULE__{
          identity: %{optional(identity_key()) => String.t()},
          reg: %{optional(atom()) => map()},
          operator: map() | nil,
          vendor: map() | nil,
          signal: SignalRules.readings(),
          clock: %{tz: integer(), dst: 0..2 | nil, utc: NaiveDateTime.t() | nil} | nil,
          sim_gone?: boolean()
        }

  @typedoc "vintage_net_qmi's `sim_rej_info` values."
  @type sim_rej_info :: :not_available | :available | :cs_invalid | :ps_invalid | :cs_ps_invalid

  @doc "Nothing known yet."
  @spec new() :: t()
  def new, do: %__MODULE__{}

  @doc """
  Every key the monitor owns under `["interface", ifname, "mobile", _]`.
  Keys missing from `properties/2` are deleted from the table.
  """
  @spec owned_keys() :: [String.t()]
  def owned_keys, do: @owned

  @doc "The identity keys (read once per modem appearance)."
  @spec identity_keys() :: [identity_key()]
  def identity_keys, do: @identity_keys

  @doc """
  Folds one parsed line into the facts. Lines of other kinds are ignored.

      iex> alias VintageNetCellular.Monitor.Facts
      iex> Facts.new() |> Facts.observe({:csq, %{rssi: 20, ber: 99}}) |> Facts.properties() |> Map.get("signal_dbm")
      -73
  """
  @spec observe(t(), parsed()) :: t()
  def observe(facts, {:csq, %{rssi: rssi}}), do: put_signal(facts, :csq, rssi)

  def observe(facts, {:cesq, %{rsrp: rsrp, rsrq: rsrq}}) do
    lte = VintageNetCellular.Signal.from_cesq(rsrp, rsrq)
    put_signal(facts, :cesq, %{rsrp: lte.rsrp, rsrq: lte.rsrq, sinr: nil})
  end

  # A vendor's reports, in the neutral terms of report() (the profile
  # translated them).
  def observe(facts, {:serving_cell, cell}) when is_map(cell) or cell == nil do
    cell =
      if cell,
        do: Map.merge(%{act: nil, mcc: nil, mnc: nil, lac: nil, tac: nil, cid: nil, band: nil, channel: nil}, cell)

    %{facts | vendor: cell}
  end

  def observe(facts, {:lte_measurement, m}) when is_map(m) or m == nil,
    do: put_signal(facts, :vendor_lte, m && Map.take(m, [:rssi, :rsrp, :rsrq, :sinr]))

  def observe(facts, {:measured_radio, text}) when is_binary(text),
    do: put_signal(facts, :measured_radio, Radio.from_text(text))

  def observe(facts, {domain, %{stat: stat} = m}) when domain in @domains do
    # A network that registers or rejects the modem has seen its SIM.
    sim_gone? = facts.sim_gone? and stat not in [:denied | @registered]

    %{facts | reg: Map.put(facts.reg, domain, m), sim_gone?: sim_gone?}
    |> then(fn f -> if stat in @registered, do: f, else: forget_if_unregistered(f) end)
  end

  def observe(facts, {:cops, %{operator: nil}}), do: %{facts | operator: nil}

  def observe(facts, {:cops, %{format: format, operator: name, act: act} = m}) do
    {mcc, mnc} =
      case m do
        %{mcc: mcc, mnc: mnc} when is_binary(mcc) -> {mcc, mnc}
        _ -> split_plmn(name)
      end

    op = facts.operator || %{mcc: nil, mnc: nil, long: nil, short: nil, act: nil}
    op = if act, do: %{op | act: act}, else: op

    op =
      cond do
        mcc != nil and {mcc, mnc} != {op.mcc, op.mnc} -> %{op | mcc: mcc, mnc: mnc, long: nil, short: nil}
        mcc != nil -> op
        format == 0 -> %{op | long: name}
        format == 1 -> %{op | short: name}
        true -> op
      end

    %{facts | operator: op}
  end

  # Network time (NITZ). +CTZE carries the local time: UTC is that minus the
  # zone. A vendor's network time report (report_facts/1) carries UTC.
  def observe(facts, {:ctze, %{tz: tz, dst: dst, time: time}}) when is_integer(tz) do
    put_clock(facts, tz, dst, time |> naive() |> shift(-tz * 900))
  end

  def observe(facts, {:network_time, %{tz: tz, dst: dst, utc: utc}}) when is_integer(tz) do
    put_clock(facts, tz, dst, naive(utc))
  end

  # +CTZV has the zone only (DST included, split unknown): the DST part
  # known for the same zone is kept, any other zone's is unknown.
  def observe(facts, {:ctzv, %{tz: tz, dst: dst}}) when is_integer(tz) do
    dst =
      case {dst, facts.clock} do
        {nil, %{tz: ^tz, dst: known}} -> known
        _ -> dst
      end

    put_clock(facts, tz, dst, nil)
  end

  def observe(facts, {:cpin, %{state: state}}) when state in @sim_gone do
    %{facts | reg: %{}, operator: nil, vendor: nil, sim_gone?: true}
  end

  def observe(facts, {:cpin, %{state: :ready}}), do: %{facts | sim_gone?: false}

  def observe(facts, _other), do: facts

  @doc """
  Folds a list of parsed lines (e.g. one command's answer) in order.
  """
  @spec observe_all(t(), [parsed()]) :: t()
  def observe_all(facts, parsed), do: Enum.reduce(parsed, facts, &observe(&2, &1))

  @doc """
  Forgets one source after its command failed (ERROR, timeout): its values
  are no longer current. `:operator` drops the `+COPS` facts, `:vendor` the
  vendor's serving-cell report, and a signal source (`:csq`, `:cesq`, or
  `:vendor_lte`, the vendor's own LTE measurement) its reading.
  """
  @spec forget(t(), :operator | :vendor | :csq | :cesq | :vendor_lte) :: t()
  def forget(facts, :operator), do: %{facts | operator: nil}
  def forget(facts, :vendor), do: %{facts | vendor: nil}
  def forget(facts, source), do: %{facts | signal: Map.delete(facts.signal, source)}

  @doc "Stores one identity string (`\"manufacturer\"`, `\"model\"`, `\"revision\"`, `\"imei\"`)."
  @spec put_identity(t(), identity_key(), String.t()) :: t()
  def put_identity(facts, key, value) when key in @identity_keys and is_binary(value) do
    %{facts | identity: Map.put(facts.identity, key, value)}
  end

  @doc "The identity keys not read yet."
  @spec missing_identity(t()) :: [identity_key()]
  def missing_identity(facts), do: Enum.reject(@identity_keys, &Map.has_key?(facts.identity, &1))

  @doc """
  Whether some domain is registered (home, roaming, SMS only or CSFB).

      iex> alias VintageNetCellular.Monitor.Facts
      iex> Facts.new() |> Facts.observe({:creg, %{stat: :searching}}) |> Facts.registered?()
      false
  """
  @spec registered?(t()) :: boolean()
  def registered?(facts), do: Enum.any?(facts.reg, fn {_d, m} -> m.stat in @registered end)

  @doc """
  Whether the vendor cell report names another PLMN than `+COPS` did (the
  operator changed without a registration URC): time to read `+COPS` again.
  """
  @spec operator_stale?(t()) :: boolean()
  def operator_stale?(%{operator: %{mcc: mcc, mnc: mnc}, vendor: %{mcc: vmcc, mnc: vmnc}})
      when is_binary(mcc) and is_binary(vmcc),
      do: {mcc, mnc} != {vmcc, vmnc}

  def operator_stale?(_facts), do: false

  @doc """
  Whether a `+COPS` read (in any format) names another operator than the one
  known, or one is named while none is known: time for a full operator read.
  A `+COPS` without operator (not registered) is left to the registration
  URCs.

      iex> alias VintageNetCellular.Monitor.Facts
      iex> f = Facts.observe(Facts.new(), {:cops, %{mode: 0, format: 0, operator: "AT&T", act: :eutran}})
      iex> Facts.cops_differs?(f, %{mode: 0, format: 0, operator: "AT&T", act: :eutran})
      false
      iex> Facts.cops_differs?(f, %{mode: 0, format: 0, operator: "T-Mobile", act: :eutran})
      true
  """
  @spec cops_differs?(t(), map()) :: boolean()
  def cops_differs?(_facts, %{operator: nil}), do: false
  def cops_differs?(%{operator: nil}, _cops), do: true

  def cops_differs?(%{operator: known}, %{format: format, operator: name} = cops) do
    case {Map.get(cops, :mcc), split_plmn(name)} do
      {mcc, _} when is_binary(mcc) -> {mcc, cops.mnc} != {known.mcc, known.mnc}
      {nil, {mcc, mnc}} when is_binary(mcc) -> {mcc, mnc} != {known.mcc, known.mnc}
      _ when format == 0 -> name != known.long
      _ when format == 1 -> name != known.short
      _ -> false
    end
  end

  @doc """
  Whether the modem is healthy in the power manager's sense: registered and
  reporting a signal.
  """
  @spec healthy?(t()) :: boolean()
  def healthy?(facts) do
    props = SignalRules.properties(facts.signal, radio(facts))
    registered?(facts) and is_integer(props["signal_4bars"]) and props["signal_4bars"] > 0
  end

  @doc """
  The monitor's properties (keys of `owned_keys/0` only), as described in
  the moduledoc. `lookup` maps MCC/MNC to a provider name.
  """
  @spec properties(t(), lookup()) :: %{String.t() => term()}
  def properties(facts, lookup \\ &VintageNetCellular.Operators.provider_name/2) do
    registered? = registered?(facts)
    radio = if registered?, do: radio(facts)

    facts.identity
    |> Map.merge(registration(facts, registered?))
    |> Map.merge(if registered?, do: network(facts, radio, lookup), else: %{})
    |> Map.merge(if registered?, do: cell(facts, radio), else: %{})
    |> Map.merge(SignalRules.properties(facts.signal, radio))
    |> Map.merge(clock(facts.clock))
    |> Map.merge(sim_rej_info(facts, registered?))
  end

  @doc """
  The registration domains that were denied without a reject cause (the URC
  of `n=2` has none): a read with `n=3` can tell why.

      iex> alias VintageNetCellular.Monitor.Facts
      iex> Facts.new() |> Facts.observe({:cereg, %{stat: :denied, reject_cause: nil}}) |> Facts.denied_without_cause()
      [:cereg]
  """
  @spec denied_without_cause(t()) :: [atom()]
  def denied_without_cause(facts) do
    for d <- @domains, m = facts.reg[d], m.stat == :denied, m[:reject_cause] == nil, do: d
  end

  ## SIM reject information

  # 3GPP TS 24.301 (EMM) and 24.008 (MM/GMM) reject causes after which the
  # UE treats its (U)SIM as invalid, and for which services:
  # #2 IMSI unknown in HLR/HSS -> non-EPS/CS; #3 illegal UE, #6 illegal ME,
  # #8 EPS (GPRS) and non-EPS services not allowed -> both; #7 EPS (GPRS)
  # services not allowed -> PS. Every other cause leaves the SIM valid.
  defp invalid_domains(2), do: [:cs]
  defp invalid_domains(cause) when cause in [3, 6, 8], do: [:cs, :ps]
  defp invalid_domains(7), do: [:ps]
  defp invalid_domains(_cause), do: []

  defp sim_rej_info(facts, registered?) do
    # cause_type 0 is a 3GPP cause; 1 is manufacturer specific.
    rejects = for {_d, %{cause_type: 0, reject_cause: cause}} <- facts.reg, is_integer(cause), do: cause
    invalid = rejects |> Enum.flat_map(&invalid_domains/1) |> Enum.uniq() |> Enum.sort()

    value =
      cond do
        invalid == [:cs] -> :cs_invalid
        invalid == [:ps] -> :ps_invalid
        invalid == [:cs, :ps] -> :cs_ps_invalid
        facts.sim_gone? -> :not_available
        registered? or rejects != [] -> :available
        true -> nil
      end

    if value, do: %{"sim_rej_info" => value}, else: %{}
  end

  ## Network time

  defp put_clock(facts, tz, dst, utc) do
    dst = if dst in 0..2, do: dst
    utc = utc || (facts.clock && facts.clock.utc)
    %{facts | clock: %{tz: tz, dst: dst, utc: utc}}
  end

  defp naive(%{year: y, month: mo, day: d, hour: h, minute: mi, second: s}) do
    case NaiveDateTime.new(y, mo, d, h, mi, s) do
      {:ok, time} -> time
      {:error, _} -> nil
    end
  end

  defp naive(_time), do: nil

  defp shift(nil, _seconds), do: nil
  defp shift(time, seconds), do: NaiveDateTime.add(time, seconds, :second)

  # As vintage_net_qmi (and Calendar) split it: the zone the modem reports
  # includes DST, `utc_offset` is the standard part and `std_offset` the DST.
  defp clock(nil), do: %{}

  defp clock(%{tz: tz, dst: dst, utc: utc}) do
    std_offset = if dst, do: dst * 3600
    props = %{"utc_offset" => tz * 900 - (std_offset || 0), "std_offset" => std_offset}
    if utc, do: Map.put(props, "network_datetime", utc), else: props
  end

  ## Registration, network, cell

  defp registration(facts, registered?) do
    case Registration.summary(facts.reg) do
      nil ->
        %{}

      stat ->
        props = %{"registration" => stat}

        if registered?,
          do: Map.put(props, "roaming", Enum.any?(facts.reg, fn {_d, m} -> m.stat in @roaming end)),
          else: props
    end
  end

  defp network(facts, radio, lookup) do
    op = facts.operator || %{}
    vendor = facts.vendor || %{}

    plmn =
      cond do
        is_binary(op[:mcc]) -> {op.mcc, op.mnc}
        is_binary(vendor[:mcc]) -> {vendor.mcc, vendor.mnc}
        true -> nil
      end

    named = op[:long] || op[:short]

    operator_props =
      case plmn do
        {mcc, mnc} ->
          %{"mcc" => mcc, "mnc" => mnc, "provider" => lookup.(mcc, mnc), "network" => named}

        nil when named != nil ->
          %{"network" => named}

        nil ->
          %{}
      end

    Map.merge(operator_props, %{"access_technology" => access_technology(facts), "radio" => radio})
  end

  # The same order as radio/1, so that the text and the atom agree.
  defp access_technology(facts) do
    (facts.vendor && facts.vendor.act) ||
      Enum.find_value(registered_domains(facts, [:c5greg, :cereg, :cgreg, :creg]), fn {d, m} ->
        Radio.act_text(m[:act], d)
      end) ||
      (facts.operator && Radio.act_text(facts.operator.act, :cops))
  end

  # The radio in use: vendor text, then registration AcT, then +COPS AcT.
  defp radio(facts) do
    (facts.vendor && Radio.from_text(facts.vendor.act)) ||
      Enum.find_value(registered_domains(facts, [:c5greg, :cereg, :cgreg, :creg]), fn {d, m} ->
        Radio.from_act(m[:act], d)
      end) ||
      (facts.operator && Radio.from_act(facts.operator.act, :cops))
  end

  defp cell(facts, radio) do
    vendor = facts.vendor || %{}
    ps_cs = registered_domains(facts, [:cgreg, :creg])
    eps = registered_domains(facts, [:c5greg, :cereg])

    cid_order =
      if Radio.lte_family?(radio), do: [:c5greg, :cereg, :cgreg, :creg], else: [:cgreg, :creg, :cereg, :c5greg]

    tac = first_field(eps, :lac) || vendor[:tac]
    # Dashboards written for vintage_net_mobile/vintage_net_qmi read `lac`
    # only: where no LAC is reported (LTE without a CS registration) it
    # carries the TAC, as `tac` does.
    lac = first_field(ps_cs, :lac) || vendor[:lac] || tac
    cid = first_field(registered_domains(facts, cid_order), :ci) || vendor[:cid]

    %{"cid" => cid}
    |> put_if(ps_cs != [] or eps != [] or lac != nil, "lac", lac)
    |> put_if(eps != [] or tac != nil, "tac", tac)
    |> put_if(facts.vendor != nil, "band", vendor[:band])
    |> put_if(facts.vendor != nil, "channel", vendor[:channel])
  end

  defp registered_domains(facts, order) do
    for d <- order, m = facts.reg[d], m.stat in @registered, do: {d, m}
  end

  defp first_field(domains, key), do: Enum.find_value(domains, fn {_d, m} -> m[key] end)

  defp put_if(map, true, key, value), do: Map.put(map, key, value)
  defp put_if(map, false, _key, _value), do: map

  defp forget_if_unregistered(facts) do
    if registered?(facts), do: facts, else: %{facts | operator: nil, vendor: nil}
  end

  defp put_signal(facts, key, value), do: %{facts | signal: Map.put(facts.signal, key, value)}

  defp split_plmn(name) when is_binary(name) and byte_size(name) in [5, 6] do
    if name =~ ~r/^\d+$/ do
      {mcc, mnc} = String.split_at(name, 3)
      {mcc, mnc}
    else
      {nil, nil}
    end
  end

  defp split_plmn(_name), do: {nil, nil}
end

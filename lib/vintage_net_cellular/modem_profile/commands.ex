defmodule VintageNetCellular.ModemProfile.Commands do
  @moduledoc """
  The vendor command builders behind the profiles' roaming and
  radio-technology callbacks (`c:VintageNetCellular.ModemProfile.roaming_settings/1`
  and `c:VintageNetCellular.ModemProfile.radio_settings/1`).

  Each builder returns settings `{query, expected, set}`: the connection
  manager sends `query`, and only when no answer line matches `expected` does
  it send `set` (one command or a list, in order). So a modem that already
  has the setting is not written to (these settings live in the modem's
  flash). `expected` is the answer line (compared without spaces and letter
  case) or a `Regex`.

  `nil` (the default of `roaming_allowed?` and `only_radio_technologies`)
  always gives `[]`: the modem's own setting is left alone. Technologies a
  family can't use are dropped; when none is left, the result is `[]` too.

  The facts come from the vendors' AT command manuals:

  * Quectel (EC25/EG25, EG95, EC21, BG96): `AT+QCFG="roamservice",<1 off | 2 on | 255 auto>,1`,
    `AT+QCFG="nwscanmode",<0 auto | 1 GSM | 2 WCDMA | 3 LTE>,1`,
    `AT+QCFG="nwscanseq",<01 GSM, 02 TD-SCDMA, 03 WCDMA, 04 LTE...>,1`; on BG96
    the sequence codes are 01 GSM, 02 LTE Cat M1, 03 LTE Cat NB1 and
    `AT+QCFG="iotopmode",<0 Cat M1 | 1 Cat NB1 | 2 both>,1` picks the LTE kinds;
  * SIMCom: `AT+CNMP=<2 auto | 13 GSM | 14 WCDMA | 38 LTE | 19 GSM+WCDMA | 51 GSM+LTE | 54 WCDMA+LTE | 39 GSM+WCDMA+LTE>`;
    on the SIM7080 also `AT+CMNB=<1 Cat M1 | 2 NB-IoT | 3 both>`;
  * Telit: 27.007 `AT+WS46=<12 GERAN | 22 UTRAN | 28 E-UTRAN | 29 GERAN+UTRAN | 30 GERAN+E-UTRAN | 31 UTRAN+E-UTRAN | 25 all>`,
    and on Cat M1/NB-IoT models `AT#WS46=<0 Cat M1 | 1 NB-IoT | 2 both>`;
  * u-blox: `AT+URAT=<selected>[,<preferred>]` (0 GSM, 1 GSM/UMTS, 2 UMTS, 3 LTE,
    4 GSM/UMTS/LTE, 5 GSM/LTE, 6 UMTS/LTE, 7 LTE Cat M1, 8 NB-IoT), which the
    modem only takes while deregistered, so it is wrapped in `AT+COPS=2` and `AT+COPS=0`;
  * Huawei: `AT^SYSCFGEX="<acqorder>",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,` with
    the acquisition order as two-digit codes (01 GSM, 02 UMTS, 03 LTE), and
    `AT^SYSCFGEX="99",40000000,<0 | 1 roaming>,4,40000000,,` for roaming
    ("99", 40000000 and 4 mean "no change").

      iex> alias VintageNetCellular.ModemProfile.Commands
      iex> Commands.quectel_roaming(false)
      [{~s(AT+QCFG="roamservice"), ~s(+QCFG: "roamservice",1), ~s(AT+QCFG="roamservice",1,1)}]
      iex> Commands.quectel_lte_rat([:lte])
      [{~s(AT+QCFG="nwscanmode"), ~s(+QCFG: "nwscanmode",3), ~s(AT+QCFG="nwscanmode",3,1)}]
      iex> Commands.simcom_cnmp([:lte, :gsm])
      [{"AT+CNMP?", "+CNMP: 51", "AT+CNMP=51"}]
      iex> Commands.quectel_lte_rat(nil)
      []
  """

  @typedoc "A setting: ask `query`; unless an answer line matches `expected`, send `set`."
  @type setting :: {query :: String.t(), expected :: String.t() | Regex.t(), set :: String.t() | [String.t()]}

  @typedoc "A radio technology, as `VintageNetCellular.Config` normalizes them."
  @type radio :: :gsm | :umts | :lte | :lte_cat_m1 | :lte_cat_nb1 | :nr5g

  # Quectel

  @doc "Quectel `roamservice` (EC25/EG25, EG95, EC21, BG96)."
  @spec quectel_roaming(boolean() | nil) :: [setting()]
  def quectel_roaming(nil), do: []

  def quectel_roaming(allowed?) do
    mode = if allowed?, do: 2, else: 1
    [{~s(AT+QCFG="roamservice"), ~s(+QCFG: "roamservice",#{mode}), ~s(AT+QCFG="roamservice",#{mode},1)}]
  end

  @doc """
  Quectel LTE Cat 4/Cat 1 modems with 3G/2G fallback (EC25, EG95, EC21):
  one technology is set with `nwscanmode`; several keep `nwscanmode` on
  automatic and set the search order with `nwscanseq`.

      iex> VintageNetCellular.ModemProfile.Commands.quectel_lte_rat([:lte, :umts])
      [
        {~s(AT+QCFG="nwscanmode"), ~s(+QCFG: "nwscanmode",0), ~s(AT+QCFG="nwscanmode",0,1)},
        {~s(AT+QCFG="nwscanseq"), ~s(+QCFG: "nwscanseq",0403), ~s(AT+QCFG="nwscanseq",0403,1)}
      ]
  """
  @spec quectel_lte_rat([radio()] | nil) :: [setting()]
  def quectel_lte_rat(nil), do: []

  def quectel_lte_rat(rats) do
    codes = %{gsm: {1, "01"}, umts: {2, "03"}, lte: {3, "04"}}

    case supported(rats, codes) do
      [] -> []
      [{mode, _seq}] -> [qcfg("nwscanmode", mode)]
      several -> [qcfg("nwscanmode", 0), qcfg("nwscanseq", Enum.map_join(several, &elem(&1, 1)))]
    end
  end

  @doc """
  Quectel 5G modules (RM500Q, RM520N): `AT+QNWPREFCFG="mode_pref"` takes
  the technologies joined by `:` (WCDMA, LTE, NR5G), in the order asked.

      iex> VintageNetCellular.ModemProfile.Commands.quectel_mode_pref([:nr5g, :lte])
      [{~s(AT+QNWPREFCFG="mode_pref"), ~s(+QNWPREFCFG: "mode_pref",NR5G:LTE), ~s(AT+QNWPREFCFG="mode_pref",NR5G:LTE)}]
      iex> VintageNetCellular.ModemProfile.Commands.quectel_mode_pref([:gsm])
      []
  """
  @spec quectel_mode_pref([radio()] | nil) :: [setting()]
  def quectel_mode_pref(nil), do: []

  def quectel_mode_pref(rats) do
    case supported(rats, %{umts: "WCDMA", lte: "LTE", nr5g: "NR5G"}) do
      [] ->
        []

      codes ->
        value = Enum.join(codes, ":")

        [
          {~s(AT+QNWPREFCFG="mode_pref"), ~s(+QNWPREFCFG: "mode_pref",#{value}), ~s(AT+QNWPREFCFG="mode_pref",#{value})}
        ]
    end
  end

  @doc """
  Quectel BG96 (GSM, LTE Cat M1, LTE Cat NB1): `nwscanmode` (GSM, LTE or
  both), `iotopmode` (which LTE kinds) and, for several, `nwscanseq`.

      iex> VintageNetCellular.ModemProfile.Commands.quectel_iot_rat([:lte_cat_m1])
      [
        {~s(AT+QCFG="nwscanmode"), ~s(+QCFG: "nwscanmode",3), ~s(AT+QCFG="nwscanmode",3,1)},
        {~s(AT+QCFG="iotopmode"), ~s(+QCFG: "iotopmode",0), ~s(AT+QCFG="iotopmode",0,1)}
      ]
  """
  @spec quectel_iot_rat([radio()] | nil) :: [setting()]
  def quectel_iot_rat(nil), do: []

  def quectel_iot_rat(rats) do
    wanted = supported(rats, %{gsm: :gsm, lte_cat_m1: :m1, lte_cat_nb1: :nb1})
    lte = Enum.filter(wanted, &(&1 in [:m1, :nb1]))

    scan_mode =
      cond do
        wanted == [] -> nil
        lte == [] -> 1
        :gsm in wanted -> 0
        true -> 3
      end

    iot_mode =
      case Enum.sort(lte) do
        [] -> nil
        [:m1] -> 0
        [:nb1] -> 1
        [:m1, :nb1] -> 2
      end

    seq = %{gsm: "01", m1: "02", nb1: "03"}

    List.wrap(if scan_mode, do: qcfg("nwscanmode", scan_mode)) ++
      List.wrap(if iot_mode, do: qcfg("iotopmode", iot_mode)) ++
      List.wrap(if length(wanted) > 1, do: qcfg("nwscanseq", Enum.map_join(wanted, &seq[&1])))
  end

  defp qcfg(key, value),
    do: {~s(AT+QCFG="#{key}"), ~s(+QCFG: "#{key}",#{value}), ~s(AT+QCFG="#{key}",#{value},1)}

  # SIMCom

  @doc "SIMCom `AT+CNMP` (SIM7600, A7600, SIM7080): which of GSM, WCDMA and LTE."
  @spec simcom_cnmp([radio()] | nil) :: [setting()]
  def simcom_cnmp(nil), do: []

  def simcom_cnmp(rats) do
    # Cat M1 and NB-IoT are LTE as far as CNMP is concerned.
    kinds = rats |> Enum.map(&lte_family/1) |> Enum.uniq() |> Enum.filter(&(&1 in [:gsm, :umts, :lte]))

    mode =
      case Enum.sort(kinds) do
        [] -> nil
        [:gsm] -> 13
        [:umts] -> 14
        [:lte] -> 38
        [:gsm, :umts] -> 19
        [:gsm, :lte] -> 51
        [:lte, :umts] -> 54
        [:gsm, :lte, :umts] -> 39
      end

    if mode, do: [{"AT+CNMP?", "+CNMP: #{mode}", "AT+CNMP=#{mode}"}], else: []
  end

  @doc """
  SIMCom SIM7080 `AT+CNMP` plus `AT+CMNB` (Cat M1, NB-IoT or both).

      iex> VintageNetCellular.ModemProfile.Commands.simcom_cat_m([:lte_cat_m1, :lte_cat_nb1])
      [{"AT+CNMP?", "+CNMP: 38", "AT+CNMP=38"}, {"AT+CMNB?", "+CMNB: 3", "AT+CMNB=3"}]
  """
  @spec simcom_cat_m([radio()] | nil) :: [setting()]
  def simcom_cat_m(nil), do: []

  def simcom_cat_m(rats) do
    rats = Enum.filter(rats, &(&1 in [:gsm, :lte_cat_m1, :lte_cat_nb1]))

    cmnb =
      case {:lte_cat_m1 in rats, :lte_cat_nb1 in rats} do
        {true, true} -> 3
        {true, false} -> 1
        {false, true} -> 2
        _ -> nil
      end

    simcom_cnmp(rats) ++ List.wrap(if cmnb, do: {"AT+CMNB?", "+CMNB: #{cmnb}", "AT+CMNB=#{cmnb}"})
  end

  # Telit

  @doc """
  Telit LE910: 27.007 `AT+WS46` for GSM/UMTS/LTE and, when only Cat M1 or
  NB-IoT are asked for (ME910/LE910Cx-W models), Telit's `AT#WS46`.

      iex> VintageNetCellular.ModemProfile.Commands.telit_ws46([:lte])
      [{"AT+WS46?", "+WS46: 28", "AT+WS46=28"}]
      iex> VintageNetCellular.ModemProfile.Commands.telit_ws46([:lte_cat_m1])
      [{"AT#WS46?", "#WS46: 0", "AT#WS46=0"}]
  """
  @spec telit_ws46([radio()] | nil) :: [setting()]
  def telit_ws46(nil), do: []

  def telit_ws46(rats) do
    iot = Enum.filter(rats, &(&1 in [:lte_cat_m1, :lte_cat_nb1]))
    classic = rats |> Enum.filter(&(&1 in [:gsm, :umts, :lte])) |> Enum.sort()

    cond do
      classic != [] ->
        mode =
          case classic do
            [:gsm] -> 12
            [:umts] -> 22
            [:lte] -> 28
            [:gsm, :umts] -> 29
            [:gsm, :lte] -> 30
            [:lte, :umts] -> 31
            [:gsm, :lte, :umts] -> 25
          end

        [{"AT+WS46?", "+WS46: #{mode}", "AT+WS46=#{mode}"}]

      iot != [] ->
        mode =
          case Enum.sort(iot) do
            [:lte_cat_m1] -> 0
            [:lte_cat_nb1] -> 1
            _ -> 2
          end

        [{"AT#WS46?", "#WS46: #{mode}", "AT#WS46=#{mode}"}]

      true ->
        []
    end
  end

  # u-blox

  @doc """
  u-blox `AT+URAT`, set while deregistered. The first technology in the list
  is the preferred one where the modem takes a preference.

      iex> VintageNetCellular.ModemProfile.Commands.ublox_urat([:lte, :umts])
      [{"AT+URAT?", "+URAT: 6,3", ["AT+COPS=2", "AT+URAT=6,3", "AT+COPS=0"]}]
      iex> VintageNetCellular.ModemProfile.Commands.ublox_urat([:lte])
      [{"AT+URAT?", "+URAT: 3", ["AT+COPS=2", "AT+URAT=3", "AT+COPS=0"]}]
  """
  @spec ublox_urat([radio()] | nil) :: [setting()]
  def ublox_urat(nil), do: []

  def ublox_urat(rats) do
    single = %{gsm: 0, umts: 2, lte: 3, lte_cat_m1: 7, lte_cat_nb1: 8}
    rats = Enum.filter(rats, &Map.has_key?(single, &1))

    value =
      case {rats, Enum.sort(rats)} do
        {[], _} -> nil
        {[one], _} -> "#{single[one]}"
        {[first | _], [:lte_cat_m1, :lte_cat_nb1]} -> "#{single[first]},#{single[other_of(first)]}"
        {[first | _], [:gsm, :umts]} -> "1,#{single[first]}"
        {[first | _], [:gsm, :lte]} -> "5,#{single[first]}"
        {[first | _], [:lte, :umts]} -> "6,#{single[first]}"
        {[first | _], [:gsm, :lte, :umts]} -> "4,#{single[first]}"
        {[first | _], _} -> "#{single[first]}"
      end

    if value,
      do: [{"AT+URAT?", "+URAT: #{value}", ["AT+COPS=2", "AT+URAT=#{value}", "AT+COPS=0"]}],
      else: []
  end

  defp other_of(:lte_cat_m1), do: :lte_cat_nb1
  defp other_of(:lte_cat_nb1), do: :lte_cat_m1

  # Huawei

  @doc """
  Huawei `AT^SYSCFGEX` acquisition order, in the order given.

      iex> [{"AT^SYSCFGEX?", expected, set}] = VintageNetCellular.ModemProfile.Commands.huawei_syscfgex([:lte, :umts])
      iex> set
      ~s(AT^SYSCFGEX="0302",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,)
      iex> VintageNetCellular.ModemProfile.Commands.matches?([~s(^SYSCFGEX: "0302",3FFFFFFF,1,2,7FFFFFFFFFFFFFFF)], expected)
      true
  """
  @spec huawei_syscfgex([radio()] | nil) :: [setting()]
  def huawei_syscfgex(nil), do: []

  def huawei_syscfgex(rats) do
    codes = %{gsm: "01", umts: "02", lte: "03"}

    case rats |> Enum.filter(&Map.has_key?(codes, &1)) |> Enum.map_join(&codes[&1]) do
      "" ->
        []

      order ->
        [
          {"AT^SYSCFGEX?", Regex.compile!(~s(\\A\\^SYSCFGEX:\\s*"#{order}",), "i"),
           ~s(AT^SYSCFGEX="#{order}",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,)}
        ]
    end
  end

  @doc "Huawei roaming through `AT^SYSCFGEX` (other fields unchanged)."
  @spec huawei_roaming(boolean() | nil) :: [setting()]
  def huawei_roaming(nil), do: []

  def huawei_roaming(allowed?) do
    roam = if allowed?, do: 1, else: 0

    [
      {"AT^SYSCFGEX?", Regex.compile!(~s(\\A\\^SYSCFGEX:\\s*"[0-9]+",[0-9A-F]+,#{roam},), "i"),
       ~s(AT^SYSCFGEX="99",40000000,#{roam},4,40000000,,)}
    ]
  end

  @doc """
  Whether a setting's `expected` matches one of the answer lines.

      iex> VintageNetCellular.ModemProfile.Commands.matches?(["+CNMP: 38"], "+cnmp:38")
      true
  """
  @spec matches?([String.t()], String.t() | Regex.t()) :: boolean()
  def matches?(lines, %Regex{} = expected), do: Enum.any?(lines, &Regex.match?(expected, &1))

  def matches?(lines, expected) do
    wanted = squash(expected)
    Enum.any?(lines, &(squash(&1) == wanted))
  end

  defp squash(text), do: text |> String.replace(~r/\s+/, "") |> String.upcase()

  # The codes of the technologies a family knows, in the order asked, once each.
  defp supported(rats, codes), do: rats |> Enum.filter(&Map.has_key?(codes, &1)) |> Enum.map(&codes[&1]) |> Enum.uniq()

  defp lte_family(rat) when rat in [:lte_cat_m1, :lte_cat_nb1], do: :lte
  defp lte_family(rat), do: rat
end

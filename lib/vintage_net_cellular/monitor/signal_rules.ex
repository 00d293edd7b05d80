defmodule VintageNetCellular.Monitor.SignalRules do
  @moduledoc """
  Which signal reading wins, and how the six signal properties follow from it.

  A modem can report its signal through several commands at once: `+CSQ`
  (every modem; some push it), 27.007 `+CESQ`, and the vendor's own LTE
  measurement (`:vendor_lte`: what the profile's
  `c:VintageNetCellular.ModemProfile.report_facts/1` makes of a report such
  as Quectel `+QCSQ` or SIMCom `+CPSI`). They disagree in scale
  and resolution, and they arrive at different times. These rules pick one
  source per property, so that a value changes only when what it measures
  changes and never flips between two sources.

  ## The rules

  1. **`signal_asu` and `signal_dbm` are the received signal strength
     (RSSI)**, as on every radio and as vintage_net_mobile/qmi users know
     them:
     * from `+CSQ` when it reports a value (0..31), converted by
       `VintageNetCellular.Signal.from_gsm_asu/1`. LTE modems map their LTE
       RSSI onto this scale themselves, and `+CSQ` is the reading modems push,
       so it wins whenever it is known;
     * on LTE, when `+CSQ` says 99 (unknown, as some Cat-M/NB-IoT firmware
       does), from the vendor's LTE RSSI in dBm (`:vendor_lte`)
       through `VintageNetCellular.Signal.from_lte_rssi/1`, the conversion
       vintage_net_qmi uses;
     * otherwise nil (vintage_net_mobile publishes 99/-113 for "unknown";
       this library does not make a number up).
  2. **`signal_rsrp`, `signal_rsrq` and `signal_sinr`** (dBm, dB, dB) exist
     only on LTE-family radios (LTE, Cat-M1, NB-IoT, 5G NR). They come
     together from the first of these sources that reports any of them:
     the vendor's measurement (`:vendor_lte`, 1 dB resolution, with SINR),
     then `+CESQ` (27.007, no SINR). A component the winning source lacks is
     nil; values outside 3GPP's report ranges are nil
     (`VintageNetCellular.Signal.from_lte/3` checks them). On other radios
     they are nil.
  3. **`signal_4bars`** on LTE-family radios follows the RSRP when it is known
     (then RSRQ/SINR; Android's thresholds, see
     `VintageNetCellular.Signal.from_lte/3`): the RSSI rises with cell load
     and interference, the RSRP doesn't. Elsewhere, or when no LTE
     measurement is known, it follows the reading of rule 1. nil when there is
     no reading at all.

  Which radio: the registered radio when known; otherwise the radio the
  measurement itself names (`:measured_radio`); otherwise
  LTE if `+CESQ` reports an RSRP.

  The properties are absent until a signal reading has been made at all.

      iex> alias VintageNetCellular.Monitor.SignalRules
      iex> SignalRules.properties(%{csq: 17}, :gsm)
      %{"signal_asu" => 17, "signal_dbm" => -79, "signal_4bars" => 3,
        "signal_rsrp" => nil, "signal_rsrq" => nil, "signal_sinr" => nil}
      iex> SignalRules.properties(%{csq: 99}, nil)
      %{"signal_asu" => nil, "signal_dbm" => nil, "signal_4bars" => nil,
        "signal_rsrp" => nil, "signal_rsrq" => nil, "signal_sinr" => nil}
      iex> SignalRules.properties(%{}, nil)
      %{}
  """

  alias VintageNetCellular.Monitor.Radio
  alias VintageNetCellular.Signal

  @typedoc "One LTE measurement, in dBm/dB (nil where the source has none)."
  @type lte :: %{
          optional(:rssi) => integer() | nil,
          rsrp: integer() | nil,
          rsrq: integer() | nil,
          sinr: integer() | nil
        }

  @typedoc """
  The latest reading of each source. A source that was read but reports no
  LTE values (the modem is on another radio) is present with nil.
  """
  @type readings :: %{
          optional(:csq) => 0..31 | 99 | nil,
          optional(:vendor_lte) => lte() | nil,
          optional(:cesq) => lte() | nil,
          optional(:measured_radio) => Radio.t() | nil
        }

  @lte_sources [:vendor_lte, :cesq]
  @rssi_sources [:vendor_lte]

  @doc "The signal properties for `readings` while on `radio` (nil if unknown)."
  @spec properties(readings(), Radio.t() | nil) :: %{String.t() => integer() | nil}
  def properties(readings, radio) do
    if Enum.any?([:csq | @lte_sources], &Map.has_key?(readings, &1)) do
      lte? = readings |> radio(radio) |> Radio.lte_family?()
      strength = strength(readings, lte?)
      lte = if lte?, do: lte_reading(readings)

      %{
        "signal_asu" => strength && strength.asu,
        "signal_dbm" => strength && strength.dbm,
        "signal_4bars" => bars(lte, strength),
        "signal_rsrp" => lte && lte.rsrp,
        "signal_rsrq" => lte && lte.rsrq,
        "signal_sinr" => lte && lte.sinr
      }
    else
      %{}
    end
  end

  @doc """
  The radio the rules use: the registered one, else the one the measurement
  names, else LTE when `+CESQ` has an RSRP.

      iex> VintageNetCellular.Monitor.SignalRules.radio(%{cesq: %{rsrp: -97, rsrq: -11, sinr: nil}}, nil)
      :lte
      iex> VintageNetCellular.Monitor.SignalRules.radio(%{measured_radio: :umts}, :lte)
      :lte
  """
  @spec radio(readings(), Radio.t() | nil) :: Radio.t() | nil
  def radio(_readings, radio) when radio != nil, do: radio

  def radio(readings, nil) do
    cond do
      readings[:measured_radio] -> readings[:measured_radio]
      match?(%{rsrp: rsrp} when is_integer(rsrp), readings[:cesq]) -> :lte
      true -> nil
    end
  end

  defp strength(readings, lte?) do
    case readings[:csq] do
      rssi when is_integer(rssi) and rssi in 0..31 ->
        Signal.from_gsm_asu(rssi)

      _unknown ->
        if lte? do
          Enum.find_value(@rssi_sources, fn source ->
            case readings[source] do
              %{rssi: rssi} when is_integer(rssi) and rssi < 0 -> Signal.from_lte_rssi(rssi)
              _ -> nil
            end
          end)
        end
    end
  end

  defp lte_reading(readings) do
    Enum.find_value(@lte_sources, fn source ->
      case readings[source] do
        %{} = m ->
          lte = Signal.from_lte(m[:rsrp], m[:rsrq], m[:sinr])
          if lte.rsrp || lte.rsrq || lte.sinr, do: lte

        nil ->
          nil
      end
    end)
  end

  defp bars(nil, nil), do: nil
  defp bars(nil, strength), do: strength.bars
  defp bars(lte, _strength), do: lte.bars
end

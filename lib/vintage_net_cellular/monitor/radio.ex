defmodule VintageNetCellular.Monitor.Radio do
  @moduledoc """
  The radio technology a modem is using: the `radio` atom and the
  `access_technology` string.

  Two kinds of source say which radio is in use:

  * a vendor report, as text: Quectel `AT+QNWINFO` (`"FDD LTE"`, `"CAT-M1"`,
    `"eMTC"`, `"NBIoT"`, `"WCDMA"`, `"NR5G-SA"` ...) and SIMCom `AT+CPSI?`
    (`"LTE"`, `"LTE CAT-M1"`, `"LTE NB-IOT"`, `"GSM"`, `"NR5G_SA"` ...);
  * a 27.007 `<AcT>` from `+COPS` or a registration line (`+CEREG` ...), as
    the atom `VintageNetCellular.AT.parse/1` gives.

  A vendor report is more precise (27.007's AcT 7 covers LTE and LTE Cat-M1
  alike), so `VintageNetCellular.Monitor.Facts` prefers it.

  One quirk is settled here by context rather than by model: Quectel's
  BG95/BG96 (and other Cat-M modems) send AcT 8 for LTE Cat-M1, where 27.007
  defines 8 as EC-GSM-IoT. In a `+CEREG` line (the EPS domain, where a GSM
  technology can't appear) 8 can only mean Cat-M1; elsewhere it keeps its
  27.007 meaning.

      iex> VintageNetCellular.Monitor.Radio.from_text("FDD LTE")
      :lte
      iex> VintageNetCellular.Monitor.Radio.from_text("LTE CAT-M1")
      :lte_cat_m1
      iex> VintageNetCellular.Monitor.Radio.from_text("No Service")
      nil
      iex> VintageNetCellular.Monitor.Radio.from_act(:ec_gsm_iot, :cereg)
      :lte_cat_m1
      iex> VintageNetCellular.Monitor.Radio.from_act(:utran_hsdpa, :cops)
      :umts
      iex> VintageNetCellular.Monitor.Radio.act_text(:eutran_nb_s1)
      "E-UTRAN (NB-S1)"
  """

  @typedoc "The `radio` property."
  @type t :: :gsm | :umts | :lte | :lte_cat_m1 | :lte_cat_nb1 | :nr5g

  @typedoc "Where an AcT was read: a registration domain or `+COPS`."
  @type act_source :: :creg | :cgreg | :cereg | :c5greg | :cops

  @lte_family [:lte, :lte_cat_m1, :lte_cat_nb1, :nr5g]

  # 27.007 <AcT> atoms (as AT.parse names them) -> radio and readable text.
  @acts %{
    gsm: {:gsm, "GSM"},
    gsm_compact: {:gsm, "GSM Compact"},
    utran: {:umts, "UTRAN"},
    gsm_egprs: {:gsm, "GSM w/EGPRS"},
    utran_hsdpa: {:umts, "UTRAN w/HSDPA"},
    utran_hsupa: {:umts, "UTRAN w/HSUPA"},
    utran_hsdpa_hsupa: {:umts, "UTRAN w/HSDPA and HSUPA"},
    eutran: {:lte, "E-UTRAN"},
    ec_gsm_iot: {:gsm, "EC-GSM-IoT"},
    eutran_nb_s1: {:lte_cat_nb1, "E-UTRAN (NB-S1)"},
    eutra_5gcn: {:lte, "E-UTRA-5GCN"},
    nr_5gcn: {:nr5g, "NR-5GCN"},
    ng_ran: {:nr5g, "NG-RAN"},
    eutra_nr: {:nr5g, "E-UTRA-NR"}
  }

  # Checked in order on the upper-cased text with "-", "_" and spaces removed;
  # the first match wins, so the narrower names come first.
  @text_rules [
    {["NR5G", "5GNR", "NRSA", "NRNSA", "ENDC"], :nr5g},
    {["NB1", "NBIOT", "NBS1"], :lte_cat_nb1},
    {["CATM", "EMTC", "LTEM"], :lte_cat_m1},
    {["LTE", "EUTRAN"], :lte},
    {["TDSCDMA", "WCDMA", "UMTS", "HSPA", "HSDPA", "HSUPA", "UTRAN"], :umts},
    {["GSM", "GPRS", "EDGE", "EGPRS"], :gsm}
  ]

  @doc "The radio of a 27.007 AcT atom read from `source`, or nil for an unknown one."
  @spec from_act(atom() | nil, act_source()) :: t() | nil
  def from_act(:ec_gsm_iot, :cereg), do: :lte_cat_m1

  def from_act(act, _source) do
    case Map.fetch(@acts, act) do
      {:ok, {radio, _text}} -> radio
      :error -> nil
    end
  end

  @doc """
  The readable 27.007 name of an AcT atom (the `access_technology` value when
  no vendor report is available), or nil. AcT 8 in `+CEREG` is Cat-M1 (see
  the moduledoc).

      iex> VintageNetCellular.Monitor.Radio.act_text(:eutran)
      "E-UTRAN"
      iex> VintageNetCellular.Monitor.Radio.act_text(:ec_gsm_iot, :cereg)
      "LTE Cat-M1"
      iex> VintageNetCellular.Monitor.Radio.act_text(nil)
      nil
  """
  @spec act_text(atom() | nil, act_source() | nil) :: String.t() | nil
  def act_text(act, source \\ nil)
  def act_text(:ec_gsm_iot, :cereg), do: "LTE Cat-M1"

  def act_text(act, _source) do
    case Map.fetch(@acts, act) do
      {:ok, {_radio, text}} -> text
      :error -> nil
    end
  end

  @doc """
  The radio named by a vendor's access technology text, or nil when the text
  names none of the six (CDMA, "NONE", "No Service").

      iex> VintageNetCellular.Monitor.Radio.from_text("HSPA+")
      :umts
      iex> VintageNetCellular.Monitor.Radio.from_text("NR5G-NSA")
      :nr5g
      iex> VintageNetCellular.Monitor.Radio.from_text("CDMA1X")
      nil
  """
  @spec from_text(String.t() | nil) :: t() | nil
  def from_text(nil), do: nil

  def from_text(text) when is_binary(text) do
    squashed = text |> String.upcase() |> String.replace(["-", "_", " ", "+"], "")

    Enum.find_value(@text_rules, fn {needles, radio} ->
      if Enum.any?(needles, &String.contains?(squashed, &1)), do: radio
    end)
  end

  @doc """
  Whether a radio measures signal as LTE does (RSRP/RSRQ/SINR).

      iex> VintageNetCellular.Monitor.Radio.lte_family?(:lte_cat_m1)
      true
      iex> VintageNetCellular.Monitor.Radio.lte_family?(:umts)
      false
  """
  @spec lte_family?(t() | nil) :: boolean()
  def lte_family?(radio), do: radio in @lte_family
end

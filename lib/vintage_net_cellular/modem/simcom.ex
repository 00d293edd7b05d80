defmodule VintageNetCellular.Modem.SIMCom do
  @moduledoc """
  What SIMCom's modules have in common, shared by their profiles with
  `use VintageNetCellular.Modem.SIMCom, opts`.

  Options, where the families differ:

  * `:iccid_command`: `"AT+CICCID"` (SIM7500/7600, A76xx; answers `+ICCID:`)
    or `"AT+CCID"` (SIM7070/7080/7090);
  * `:cgauth`: `:password_first` (SIM7600 and A76xx take
    `AT+CGAUTH=<cid>,<type>,"<password>","<user>"`) or `:standard` (27.007
    order, SIM7080);
  * `:radio`: `:cnmp` (`AT+CNMP` preferred mode) or `:cat_m` (`AT+CNMP` plus
    `AT+CMNB` for Cat-M1/NB-IoT);
  * `:signal_urc`: whether `AT+AUTOCSQ=1,1` (pushed `+CSQ:`) exists.

  Their own URCs are `+CPSI:`, `+CNSMOD:`, `+CGNSINF:` and `+SIMCARD:`
  (`+SIMCARD: NOT AVAILABLE` when the SIM is pulled out).

  All of them read the serving cell and signal with `AT+CPSI?` and the PIN
  attempts left with `AT+SPIC`, and their port table family is `"simtech"`
  (`c:VintageNetCellular.ModemProfile.port_table_plugins/0`).

      defmodule MyApp.SIM7600G do
        use VintageNetCellular.Modem.SIMCom,
          iccid_command: "AT+CICCID", cgauth: :password_first, radio: :cnmp, signal_urc: true

        @impl true
        def name(), do: "SIMCom SIM7600G-H"

        @impl true
        def usb_ids(), do: [{0x1E0E, 0x9001}]
      end
  """

  alias VintageNetCellular.ModemProfile.Commands

  @doc false
  defmacro __using__(opts) do
    iccid_command = Keyword.fetch!(opts, :iccid_command)
    cgauth = Keyword.fetch!(opts, :cgauth)
    radio = Keyword.fetch!(opts, :radio)
    signal_urc = if Keyword.fetch!(opts, :signal_urc), do: ["AT+AUTOCSQ=1,1"], else: []

    quote do
      use VintageNetCellular.ModemProfile

      @impl true
      def iccid_command(), do: unquote(iccid_command)

      @impl true
      def cgauth_command(cid, auth, user, password),
        do: unquote(__MODULE__).cgauth_command(unquote(cgauth), cid, auth, user, password)

      @impl true
      def signal_urc_commands(), do: unquote(signal_urc)

      @impl true
      def pin_attempts_command(), do: "AT+SPIC"

      @impl true
      def urc_prefixes(), do: ["+CPSI:", "+CNSMOD:", "+CGNSINF:", "+SIMCARD:"]

      @impl true
      def sim_removed_urcs(), do: ["+SIMCARD"]

      @impl true
      def translate_urc(parsed), do: unquote(__MODULE__).translate_urc(parsed)

      @impl true
      def signal_commands(), do: ["AT+CPSI?"]

      # ModemManager's SIMCom plugin is called "simtech".
      @impl true
      def port_table_plugins(), do: ["simtech"]

      defoverridable port_table_plugins: 0

      @impl true
      def cell_info_commands(), do: ["AT+CPSI?"]

      @impl true
      def read_sources("AT+CPSI?"), do: [:vendor_lte, :vendor]
      def read_sources(_command), do: []

      @impl true
      def report_facts(parsed), do: unquote(__MODULE__).report_facts(parsed)

      @impl true
      def radio_settings(radio_technologies),
        do: unquote(__MODULE__).radio_settings(unquote(radio), radio_technologies)
    end
  end

  @doc """
  SIMCom's SIM hot-plug URC, `+SIMCARD: NOT AVAILABLE`, is 27.007's
  `+CPIN: SIM REMOVED`; every other URC stays as it is.

      iex> {:ok, parsed} = VintageNetCellular.AT.parse("+SIMCARD: NOT AVAILABLE")
      iex> VintageNetCellular.Modem.SIMCom.translate_urc(parsed)
      {:cpin, %{state: :sim_removed}}
  """
  @spec translate_urc(VintageNetCellular.AT.parsed()) :: VintageNetCellular.AT.parsed()
  def translate_urc({:unknown, %{prefix: "+SIMCARD", fields: [text | _]}} = parsed) when is_binary(text) do
    if String.upcase(text) =~ "NOT AVAILABLE", do: {:cpin, %{state: :sim_removed}}, else: parsed
  end

  def translate_urc(parsed), do: parsed

  @doc """
  SIMCom's `+CPSI` in neutral terms (`c:VintageNetCellular.ModemProfile.report_facts/1`):
  the serving cell (none when offline or without service), the LTE
  measurement on LTE-family radios, and the radio its system mode names.
  On LTE the area code is the TAC, not a LAC.

      iex> cpsi = %{system_mode: "LTE", operation_mode: "Online", mcc: "310", mnc: "260", lac: 11285,
      ...>   tac: 11285, cell_id: 27447554, band: "EUTRAN-BAND4", channel: 2300, rssi: -71, rsrp: -101, rsrq: -9, sinr: 14}
      iex> [{:serving_cell, cell}, lte, radio] = VintageNetCellular.Modem.SIMCom.report_facts({:cpsi, cpsi})
      iex> {cell.tac, cell.lac, cell.cid, radio}
      {11285, nil, 27447554, {:measured_radio, "LTE"}}
      iex> lte
      {:lte_measurement, %{rssi: -71, rsrp: -101, rsrq: -9, sinr: 14}}
  """
  @spec report_facts(VintageNetCellular.AT.parsed()) :: [VintageNetCellular.Monitor.Facts.report()] | nil
  def report_facts({:cpsi, %{system_mode: mode} = m}) when is_binary(mode) do
    radio = VintageNetCellular.Monitor.Radio.from_text(mode)
    lte? = VintageNetCellular.Monitor.Radio.lte_family?(radio)
    service? = radio != nil and m[:operation_mode] not in ["Offline", "Low Power Mode"]

    cell =
      if service? do
        %{
          act: mode,
          mcc: m[:mcc],
          mnc: m[:mnc],
          lac: if(lte?, do: nil, else: m[:lac]),
          tac: m[:tac],
          cid: m[:cell_id],
          band: m[:band],
          channel: m[:channel]
        }
      end

    [
      {:serving_cell, cell},
      {:lte_measurement, if(lte?, do: Map.take(m, [:rssi, :rsrp, :rsrq, :sinr]))},
      {:measured_radio, mode}
    ]
  end

  def report_facts(_parsed), do: nil

  @doc false
  @spec cgauth_command(:password_first | :standard, pos_integer(), 0..3, String.t() | nil, String.t() | nil) ::
          String.t()
  def cgauth_command(:password_first, cid, 0, _user, _password), do: "AT+CGAUTH=#{cid},0"

  def cgauth_command(:password_first, cid, auth, user, password),
    do: ~s(AT+CGAUTH=#{cid},#{auth},"#{password || ""}","#{user || ""}")

  def cgauth_command(:standard, cid, auth, user, password),
    do: VintageNetCellular.Connection.PDP.cgauth_command(cid, auth, user, password)

  @doc false
  @spec radio_settings(:cnmp | :cat_m, [atom()] | nil) :: [VintageNetCellular.ModemProfile.setting()]
  def radio_settings(:cnmp, radio_technologies), do: Commands.simcom_cnmp(radio_technologies)
  def radio_settings(:cat_m, radio_technologies), do: Commands.simcom_cat_m(radio_technologies)
end

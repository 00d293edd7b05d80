defmodule VintageNetCellular.Modem.Quectel do
  @moduledoc """
  What Quectel's LTE modules (EC2x, EG9x, BG9x) have in common, shared by
  their profiles with `use VintageNetCellular.Modem.Quectel`.

  * Port table family: `"quectel"` (`c:VintageNetCellular.ModemProfile.port_table_plugins/0`),
    so `modem: SomeQuectelProfile` also drives Quectel modems the port table
    knows and no profile lists.
  * USB layout: interfaces 00 QCDM, 01 GPS NMEA, 02 primary AT, 03
    secondary AT (PPP is dialed there), 04 QMI (`qmi_wwan`, not needed
    for PPP).
  * `AT+QURCCFG="urcport","usbat"` sends URCs to the USB AT port.
  * ICCID with `AT+QCCID`; PIN attempts left with `AT+QPINC="SC"`.
  * Its own URCs: `+QIND:` (pushed signal), `+QUSIM:`, `+QSTAT:`, `+QIURC:`,
    `+QNETDEVSTATUS:`.
  * Network time: `+CTZE` URCs (`AT+CTZR=2`) and, at start, the last
    network time from `AT+QLTS` (UTC).
  * Signal is pushed with `AT+QINDCFG="csq",1,0` (`+QIND: "csq",<rssi>,<ber>`)
    and read with `AT+QCSQ`; serving-cell facts with `AT+QNWINFO`.
  * USB network functions (`usb_net: [:ecm]`, for the models that have it): `AT+QCFG="usbnet"` (see `VintageNetCellular.ModemProfile.UsbNet`).
  * Roaming: `AT+QCFG="roamservice"`; radio technologies:
    `AT+QCFG="nwscanmode"` (LTE modules, `radio: :lte`) or
    `AT+QCFG="iotopmode"` (BG9x Cat-M1/NB-IoT, `radio: :iot`).

  Example:

      defmodule MyApp.QuectelEG25G do
        use VintageNetCellular.Modem.Quectel, radio: :lte

        @impl true
        def name(), do: "Quectel EG25-G"

        @impl true
        def usb_ids(), do: [{0x2C7C, 0x0125}]
      end
  """

  alias VintageNetCellular.ModemProfile.Commands

  @doc false
  defmacro __using__(opts) do
    radio = Keyword.get(opts, :radio, :lte)
    usb_net = Keyword.get(opts, :usb_net, [])

    quote do
      use VintageNetCellular.ModemProfile

      @impl true
      def port_roles(_usb_id), do: %{4 => :qmi}

      @impl true
      def port_table_plugins(), do: ["quectel"]

      @impl true
      def optional_kernel_options(), do: VintageNetCellular.ModemProfile.qmi_kernel_options()

      @impl true
      def init_commands(), do: [~s(AT+QURCCFG="urcport","usbat")]

      @impl true
      def iccid_command(), do: "AT+QCCID"

      @impl true
      def pin_attempts_command(), do: ~s(AT+QPINC="SC")

      @impl true
      def urc_prefixes(), do: ["+QIND:", "+QUSIM:", "+QSTAT:", "+QIURC:", "+QNETDEVSTATUS:"]

      @impl true
      def translate_urc(parsed), do: unquote(__MODULE__).translate_urc(parsed)

      @impl true
      def usb_net_functions(_usb_id, cid),
        do: VintageNetCellular.ModemProfile.UsbNet.quectel(unquote(usb_net), cid)

      @impl true
      def signal_urc_commands(), do: [~s(AT+QINDCFG="csq",1,0)]

      @impl true
      def signal_commands(), do: ["AT+QCSQ"]

      @impl true
      def cell_info_commands(), do: ["AT+QNWINFO"]

      @impl true
      def read_sources("AT+QCSQ"), do: [:vendor_lte]
      def read_sources("AT+QNWINFO"), do: [:vendor]
      def read_sources(_command), do: []

      @impl true
      def report_facts(parsed), do: unquote(__MODULE__).report_facts(parsed)

      @impl true
      def network_time_commands(), do: ["AT+QLTS"]

      @impl true
      def roaming_settings(allowed?), do: Commands.quectel_roaming(allowed?)

      @impl true
      def radio_settings(radio_technologies),
        do: unquote(__MODULE__).radio_settings(unquote(radio), radio_technologies)

      defoverridable port_roles: 1,
                     port_table_plugins: 0,
                     optional_kernel_options: 0,
                     radio_settings: 1,
                     usb_net_functions: 2
    end
  end

  @doc """
  Quectel's pushed signal (`AT+QINDCFG="csq",1`), `+QIND: "csq",<rssi>,<ber>`,
  is 27.007's `+CSQ`; every other URC stays as it is.

      iex> {:ok, parsed} = VintageNetCellular.AT.parse(~s(+QIND: "csq",21,99))
      iex> VintageNetCellular.Modem.Quectel.translate_urc(parsed)
      {:csq, %{rssi: 21, ber: 99}}
      iex> {:ok, parsed} = VintageNetCellular.AT.parse("+QIND: SMS DONE")
      iex> VintageNetCellular.Modem.Quectel.translate_urc(parsed) == parsed
      true
  """
  @spec translate_urc(VintageNetCellular.AT.parsed()) :: VintageNetCellular.AT.parsed()
  def translate_urc({:unknown, %{prefix: "+QIND", fields: [kind, rssi, ber | _]}} = parsed) do
    with "csq" <- String.downcase(kind),
         {rssi, ""} when rssi in 0..31 or rssi == 99 <- Integer.parse(rssi),
         {ber, ""} when ber in 0..7 or ber == 99 <- Integer.parse(ber) do
      {:csq, %{rssi: rssi, ber: ber}}
    else
      _ -> parsed
    end
  end

  def translate_urc(parsed), do: parsed

  @lte_modes ~w(LTE CAT-M1 CAT-NB1 EMTC NBIOT)

  @doc """
  Quectel's reports in neutral terms (`c:VintageNetCellular.ModemProfile.report_facts/1`):
  `+QCSQ` is the LTE measurement (nil off LTE) and the radio it names,
  `+QNWINFO` the serving cell's radio, PLMN, band and channel, `+QLTS` the
  network time (UTC already).

      iex> VintageNetCellular.Modem.Quectel.report_facts({:qcsq, %{sysmode: "LTE", rssi: -52, rsrp: -81, sinr: 195, rsrq: -10}})
      [{:lte_measurement, %{rssi: -52, rsrp: -81, rsrq: -10, sinr: 195}}, {:measured_radio, "LTE"}]
      iex> VintageNetCellular.Modem.Quectel.report_facts({:qnwinfo, %{service: false}})
      [{:serving_cell, nil}]
      iex> VintageNetCellular.Modem.Quectel.report_facts({:qlts, %{tz: -16, dst: 1, time: nil}})
      [{:network_time, %{tz: -16, dst: 1, utc: nil}}]
      iex> VintageNetCellular.Modem.Quectel.report_facts({:csq, %{rssi: 20, ber: 99}})
      nil
  """
  @spec report_facts(VintageNetCellular.AT.parsed()) :: [VintageNetCellular.Monitor.Facts.report()] | nil
  def report_facts({:qcsq, %{sysmode: sysmode} = m}) when is_binary(sysmode) do
    lte? = String.upcase(sysmode) in @lte_modes
    [{:lte_measurement, if(lte?, do: Map.take(m, [:rssi, :rsrp, :rsrq, :sinr]))}, {:measured_radio, sysmode}]
  end

  def report_facts({:qnwinfo, %{service: false}}), do: [{:serving_cell, nil}]

  def report_facts({:qnwinfo, m}) when is_map(m) do
    [{:serving_cell, %{act: m[:act], mcc: m[:mcc], mnc: m[:mnc], band: m[:band], channel: m[:channel]}}]
  end

  def report_facts({:qlts, %{tz: tz, dst: dst, time: time}}), do: [{:network_time, %{tz: tz, dst: dst, utc: time}}]

  def report_facts(_parsed), do: nil

  @doc false
  @spec radio_settings(:lte | :iot, [atom()] | nil) :: [VintageNetCellular.ModemProfile.setting()]
  def radio_settings(:lte, radio_technologies), do: Commands.quectel_lte_rat(radio_technologies)
  def radio_settings(:iot, radio_technologies), do: Commands.quectel_iot_rat(radio_technologies)
end

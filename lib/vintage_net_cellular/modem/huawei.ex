defmodule VintageNetCellular.Modem.Huawei do
  @moduledoc """
  What Huawei's HiSilicon modems (E-series USB sticks, ME909 modules) have in
  common, shared by their profiles with `use VintageNetCellular.Modem.Huawei`.

  * USB layout: each vendor-class port is described by subclass and
    protocol, so roles come from the interface-class fallback: ff/0x/02 is
    an AT ("PCUI") port, ff/0x/01 the modem port PPP dials on. The NCM
    network interface (`huawei_cdc_ncm`, optional) isn't needed for PPP.
  * ICCID with `AT^ICCID?` (digits swapped pairwise, as stored on the SIM).
  * Their own URCs: `^SYSSTART`, `^MODE:`, `^RSSI:`, `^HCSQ:`, `^SIMST:`.
  * Roaming and radio technologies with `AT^SYSCFGEX`.

      defmodule MyApp.HuaweiE3276 do
        use VintageNetCellular.Modem.Huawei

        @impl true
        def name(), do: "Huawei E3276"

        @impl true
        def usb_ids(), do: [{0x12D1, 0x1506}]
      end
  """

  @doc false
  defmacro __using__(_opts) do
    quote do
      use VintageNetCellular.ModemProfile

      @impl true
      def optional_kernel_options(), do: ["CONFIG_USB_NET_HUAWEI_CDC_NCM"]

      @impl true
      def iccid_command(), do: "AT^ICCID?"

      @impl true
      def urc_prefixes(), do: ["^SYSSTART", "^MODE:", "^RSSI:", "^HCSQ:", "^SIMST:"]

      @impl true
      def roaming_settings(allowed?), do: VintageNetCellular.ModemProfile.Commands.huawei_roaming(allowed?)

      @impl true
      def radio_settings(radio_technologies),
        do: VintageNetCellular.ModemProfile.Commands.huawei_syscfgex(radio_technologies)

      defoverridable optional_kernel_options: 0, radio_settings: 1
    end
  end
end

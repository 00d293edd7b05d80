defmodule VintageNetCellular.Modem.HuaweiE3372 do
  @moduledoc """
  Huawei E3372 and other Huawei USB modems in modem ("stick") mode:
  12d1:1506 (E3372, E3276, E398, MS2372, ...), 12d1:1001, 12d1:1436 and
  12d1:1465.

  Huawei describes each vendor-class port by subclass and protocol, so the
  roles come from the interface-class fallback rather than a table: ff/01/02
  and ff/02/02 are AT ports (the "PCUI" port), ff/0x/01 is the modem port PPP
  dials on. Ports use the `option` driver; the NCM network interface
  (`huawei_cdc_ncm`) isn't needed for PPP.

  A Huawei modem in HiLink mode (e.g. 12d1:14dc) is a USB Ethernet device
  without AT ports and can't be used with PPP.
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Huawei E3372"

  @impl true
  def usb_ids(), do: [{0x12D1, 0x1001}, {0x12D1, 0x1436}, {0x12D1, 0x1465}, {0x12D1, 0x1506}]

  @impl true
  def optional_kernel_options(), do: ["CONFIG_USB_NET_HUAWEI_CDC_NCM"]

  # Connection manager commands (Huawei's HiSilicon modem AT command interface)

  @impl true
  def iccid_command(), do: "AT^ICCID?"

  @impl true
  def roaming_settings(allowed?), do: VintageNetCellular.ModemProfile.Commands.huawei_roaming(allowed?)

  @impl true
  def radio_settings(radio_technologies),
    do: VintageNetCellular.ModemProfile.Commands.huawei_syscfgex(radio_technologies)
end

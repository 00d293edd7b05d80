defmodule VintageNetCellular.Modem.SierraEM74xx do
  @moduledoc """
  Sierra Wireless EM74xx/MC74xx and EM7565 (LTE Cat 6 to Cat 12 M.2 and
  mini-PCIe cards) in their default USB composition:

  | id | model |
  |---|---|
  | 1199:9071 | MC74xx (MC7430, MC7455) |
  | 1199:9079 | EM74xx (EM7455, EM7430, EM7411) |
  | 1199:9091 | EM7565, EM7511 |

  These are bound by the `qcserial` driver (Linux's Qualcomm USB-serial
  driver, `CONFIG_USB_SERIAL_QUALCOMM`), not by `option`. Id source: that
  driver's device table, which gives the three ids Sierra's interface
  layout, which the port table
  (ModemManager's Sierra rules) gives too: 00 QCDM, 02 GPS NMEA, 03 the AT
  port. Interfaces 08 and 0a are QMI (`qmi_wwan`), which PPP doesn't need.

  There is one AT port, so AT commands and PPP share it: signal and status
  can't be read while PPP is up. Sierra's firmware images for these cards
  put the data path on QMI or MBIM first; PPP works over the AT port where
  the firmware's `ATD*99#` is enabled (the generic images do).
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Sierra Wireless EM74xx/MC74xx"

  @impl true
  def usb_ids(), do: [{0x1199, 0x9071}, {0x1199, 0x9079}, {0x1199, 0x9091}]

  @impl true
  def serial_driver(_usb_id), do: :qcserial

  @impl true
  def kernel_options(), do: ["CONFIG_PPP", "CONFIG_PPP_ASYNC", "CONFIG_USB_SERIAL", "CONFIG_USB_SERIAL_QUALCOMM"]

  @impl true
  def optional_kernel_options(), do: VintageNetCellular.ModemProfile.qmi_kernel_options()

  # Sierra's AT command reference: AT!ICCID? reads the ICCID (answered
  # "ICCID: ..."), but AT+CCID (the default) works on these cards too.
end

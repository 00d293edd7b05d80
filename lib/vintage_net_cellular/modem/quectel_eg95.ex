defmodule VintageNetCellular.Modem.QuectelEG95 do
  @moduledoc """
  Quectel EG95 (2c7c:0195).

  Serial interfaces (from the port table): 00 QCDM, 01 GPS NMEA, 02 primary AT
  port, 03 secondary AT port (PPP is dialed here while 02 keeps answering
  status and signal queries), all on the `option` driver. Interface 04 is
  the QMI network interface (`qmi_wwan`, wwan0), which PPP doesn't need.

  The ttyUSB numbers are whatever the kernel assigned (often ttyUSB2 and
  ttyUSB3, but not when another USB-serial device enumerated first);
  `VintageNetCellular.Discovery` finds them by interface number.
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte

  @impl true
  def name(), do: "Quectel EG95"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0195}]
end

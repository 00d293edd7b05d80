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
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Quectel EG95"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0195}]

  @impl true
  def port_roles(_usb_id), do: %{4 => :qmi}

  @impl true
  def optional_kernel_options(), do: VintageNetCellular.ModemProfile.qmi_kernel_options()

  # Connection manager commands (Quectel's AT command manual for the family)

  # URCs (registration, SIM) on the USB AT port the connection manager listens to.
  @impl true
  def init_commands(), do: [~s(AT+QURCCFG="urcport","usbat")]

  @impl true
  def iccid_command(), do: "AT+QCCID"

  @impl true
  def roaming_settings(allowed?), do: VintageNetCellular.ModemProfile.Commands.quectel_roaming(allowed?)

  @impl true
  def radio_settings(radio_technologies),
    do: VintageNetCellular.ModemProfile.Commands.quectel_lte_rat(radio_technologies)
end

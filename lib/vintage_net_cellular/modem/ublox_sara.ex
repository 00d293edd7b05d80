defmodule VintageNetCellular.Modem.UbloxSara do
  @moduledoc """
  u-blox SARA-R4 and SARA-R5 (LTE Cat M1/NB-IoT).

  * SARA-R410M (05c6:90b2, a Qualcomm id) exposes vendor-class ports on the
    `option` driver. Id source: Linux's `option` driver table
    (`UBLOX_PRODUCT_R410M`, interfaces 1 and 3 reserved) and `qmi_wwan`
    (QMI on 3), recorded in the project's supplement to the port table
    (`data/usb_modem_ports_supplement.json`): 00 diagnostics (not used), 02
    the AT port, 03 QMI. With one AT port, AT commands and PPP share it.
  * SARA-R5 modules give AT commands on their UART only (their USB port is
    for firmware update and traces), so they have no USB id here: name this
    profile with an explicit `at_tty` for the UART.

  Commands: u-blox's `AT+URAT` chooses the radio technologies (with
  `AT+COPS=2` before and `AT+COPS=0` after); `AT+CCID` (the default) reads
  the ICCID.
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "u-blox SARA-R4/R5"

  # +CIEV: indicator events (signal, service, SIM), as u-blox sends them.
  @impl true
  def urc_prefixes(), do: ["+CIEV:"]

  @impl true
  def usb_ids(), do: [{0x05C6, 0x90B2}]

  # A Qualcomm id: older kernels' option driver doesn't list it.
  @impl true
  def driver_lists_usb_id?(_usb_id), do: false

  @impl true
  def radio_settings(radio_technologies), do: VintageNetCellular.ModemProfile.Commands.ublox_urat(radio_technologies)
end

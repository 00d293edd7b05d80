defmodule VintageNetCellular.Modem.QuectelRM5xx do
  @moduledoc """
  Quectel RM500Q/RG500Q (2c7c:0800) and RM520N/RG520N (2c7c:0801), 5G
  Sub-6 M.2 modules, here used for LTE/5G data over PPP.

  Ids and layout from the port table (ModemManager's Quectel rules; both ids
  are also in Linux's `option` driver table): 00 QCDM, 01 GPS NMEA, 02
  primary AT port, 03 secondary AT port (PPP), 04 QMI, which PPP doesn't
  need. PPP over USB is limited to a few hundred Mbit/s at most, well below
  what the radio can do; use QMI or MBIM for full 5G speed.

  The commands are the Quectel family's (`VintageNetCellular.Modem.Quectel`),
  except the radio technologies: these modules choose them with
  `AT+QNWPREFCFG="mode_pref"`, not `AT+QCFG="nwscanmode"`, so
  `only_radio_technologies` is applied through `mode_pref`.
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel RM500Q/RM520N"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0800}, {0x2C7C, 0x0801}]

  @impl true
  def radio_settings(radio_technologies),
    do: VintageNetCellular.ModemProfile.Commands.quectel_mode_pref(radio_technologies)
end

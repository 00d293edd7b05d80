defmodule VintageNetCellular.Modem.TelitME910 do
  @moduledoc """
  Telit ME910C1 and MEx10G1 (LTE Cat M1/NB-IoT), by USB composition (roles
  from the port table, ModemManager's Telit rules; serial ports on the
  `option` driver, which lists both ids):

  | id | model | AT | second AT (PPP) |
  |---|---|---|---|
  | 1bc7:1101 | ME910C1 | 01 | 02 |
  | 1bc7:110a | MEx10G1 | 01 | 02 |

  Interface 00 is QCDM. The commands are Telit's: the ICCID is read with
  `AT#CCID`, and the Cat-M1/NB-IoT choice is made with `AT#WS46` (see
  `VintageNetCellular.ModemProfile.Commands.telit_ws46/1`).
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Telit ME910C1"

  # #QSS: SIM status (0 not inserted, 1 inserted, 2 unlocked, 3 ready).
  @impl true
  def urc_prefixes(), do: ["#QSS:"]

  @impl true
  def usb_ids(), do: [{0x1BC7, 0x1101}, {0x1BC7, 0x110A}]

  @impl true
  def iccid_command(), do: "AT#CCID"

  @impl true
  def radio_settings(radio_technologies), do: VintageNetCellular.ModemProfile.Commands.telit_ws46(radio_technologies)
end

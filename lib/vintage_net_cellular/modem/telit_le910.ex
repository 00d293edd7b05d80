defmodule VintageNetCellular.Modem.TelitLE910 do
  @moduledoc """
  Telit LE910 family, by USB composition (roles from the port table, serial
  ports on the `option` driver):

  | id | model | AT | second AT (PPP) |
  |---|---|---|---|
  | 1bc7:1031, 1bc7:1033 | LE910C1-EUX (default, ECM) | 01 | 02 |
  | 1bc7:1201 | LE910C1 (default) | 04 | 05 |
  | 1bc7:1204 | LE910C1 (MBIM) | 05 | 06 |
  | 1bc7:7010, 1bc7:7011 | LE910S1 (RNDIS, ECM) | 04 | 03 |
  | 1bc7:7020, 1bc7:7021 | LE910Q1 (RNDIS, ECM) | 06 | 02 |

  Its port table family is `"telit"`: configured explicitly
  (`modem: VintageNetCellular.Modem.TelitLE910`), it also drives the Telit
  modems the port table knows and no profile lists (e.g. an ME910C1,
  1bc7:1101), with the table's roles.
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Telit LE910"

  # #QSS: SIM status (0 not inserted, 1 inserted, 2 unlocked, 3 ready).
  @impl true
  def urc_prefixes(), do: ["#QSS:"]

  @impl true
  def usb_ids() do
    [
      {0x1BC7, 0x1031},
      {0x1BC7, 0x1033},
      {0x1BC7, 0x1201},
      {0x1BC7, 0x1204},
      {0x1BC7, 0x7010},
      {0x1BC7, 0x7011},
      {0x1BC7, 0x7020},
      {0x1BC7, 0x7021}
    ]
  end

  @impl true
  def port_table_plugins(), do: ["telit"]

  # The compositions with a network function Linux drives (ECM: 1031, 1033,
  # 7011, 7021; RNDIS: 7010, 7020) are used as they are, with Telit's
  # AT#ECM data call. Switching the default 1bc7:1201 (AT#USBCFG) would give
  # ids whose port layout the port table doesn't have, so it isn't done.
  @impl true
  def usb_net_functions({0x1BC7, pid}, cid) when pid in [0x1031, 0x1033, 0x7011, 0x7021],
    do: VintageNetCellular.ModemProfile.UsbNet.telit_fixed(:ecm, cid)

  def usb_net_functions({0x1BC7, pid}, cid) when pid in [0x7010, 0x7020],
    do: VintageNetCellular.ModemProfile.UsbNet.telit_fixed(:rndis, cid)

  def usb_net_functions(_usb_id, _cid), do: []

  # Connection manager commands (Telit's LE910 AT commands reference guide)

  @impl true
  def iccid_command(), do: "AT#CCID"

  @impl true
  def radio_settings(radio_technologies), do: VintageNetCellular.ModemProfile.Commands.telit_ws46(radio_technologies)
end

defmodule VintageNetCellular.Modem.Generic do
  @moduledoc """
  A plain 3GPP modem: standard AT commands only.

  It claims no USB ids. Discovery gives it to modems the generated port table
  knows but no shipped profile lists (e.g. a Quectel EG06 or a Sierra
  MC73xx), and it is the profile to name for a UART modem configured with an
  explicit `at_tty`. Configured explicitly (`modem:
  VintageNetCellular.Modem.Generic`, as vintage_net_mobile's SierraHL8548 is
  mapped), it drives any device the port table knows, then probed unknown
  devices of a modem vendor (`port_table_plugins/0` is `:all`).

  A data call left up (e.g. by a pppd that was stopped) is ended the 3GPP
  way, by deactivating its context from the AT port (`AT+CGACT=0,<cid>`, the
  default of `c:VintageNetCellular.ModemProfile.end_call/1`).

  Ids that aren't in the mainline `option` driver can be bound at run time
  through its `new_id` file, which `VintageNetCellular.Diagnose` explains.
  """
  use VintageNetCellular.ModemProfile

  @impl true
  def name(), do: "Generic 3GPP modem"

  @impl true
  def port_table_plugins(), do: :all

  @impl true
  def driver_lists_usb_id?(_usb_id), do: false
end

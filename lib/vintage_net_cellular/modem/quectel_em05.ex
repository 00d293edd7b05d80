defmodule VintageNetCellular.Modem.QuectelEM05 do
  @moduledoc """
  Quectel EM05-G (2c7c:030e), an LTE Cat 4 M.2 card.

  Id source: Linux's `option` driver table (`QUECTEL_PRODUCT_EM05GV2`, with
  interface 04 reserved for `qmi_wwan`), recorded with its interface numbers
  in the project's supplement to the port table
  (`data/usb_modem_ports_supplement.json`): 00 QCDM, 01 GPS NMEA, 02 primary
  AT port, 03 secondary AT port (PPP), 04 QMI. The EM05-G's other
  compositions (030a, 0311, 0313, ...) put MBIM first and are not claimed.
  The commands are the Quectel family's (`VintageNetCellular.Modem.Quectel`).
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel EM05-G"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x030E}]
end

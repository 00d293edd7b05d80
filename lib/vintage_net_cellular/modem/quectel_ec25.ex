defmodule VintageNetCellular.Modem.QuectelEC25 do
  @moduledoc """
  Quectel EC25/EG25 (2c7c:0125), LTE Cat 4.

  Some firmware reports "Android" as manufacturer and product: the modem is
  known by its USB id, never by those strings. The USB layout and commands
  are the Quectel family's (`VintageNetCellular.Modem.Quectel`).
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel EC25/EG25"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0125}]
end

defmodule VintageNetCellular.Modem.QuectelEG91 do
  @moduledoc """
  Quectel EG91 (2c7c:0191), LTE Cat 1.

  Id and layout from the port table (ModemManager's Quectel rules; the id is
  also in Linux's `option` driver table). The USB layout and commands are the
  Quectel family's (`VintageNetCellular.Modem.Quectel`).
  """
  use VintageNetCellular.Modem.Quectel, radio: :lte, usb_net: [:ecm]

  @impl true
  def name(), do: "Quectel EG91"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0191}]
end

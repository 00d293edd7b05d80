defmodule VintageNetCellular.Modem.QuectelBG96 do
  @moduledoc """
  Quectel BG96 (2c7c:0296), LTE Cat M1/NB1 with GSM fallback.

  The USB layout and commands are the Quectel family's
  (`VintageNetCellular.Modem.Quectel`); radio technologies are chosen with
  `AT+QCFG="iotopmode"` as well as `"nwscanmode"`.
  """
  use VintageNetCellular.Modem.Quectel, radio: :iot

  @impl true
  def name(), do: "Quectel BG96"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0296}]

  # Wired over one UART on many boards: multiplexed by default there
  # (Quectel's AT+CMUX: basic mode, UIH, 115200, N1 127, T1 100 ms, N2 3,
  # T2 300 ms, T3 10 s, k 2).
  @impl true
  def cmux(), do: %{command: "AT+CMUX=0,0,5,127,10,3,30,10,2", n1: 127, default?: true}
end

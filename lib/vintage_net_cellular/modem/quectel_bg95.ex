defmodule VintageNetCellular.Modem.QuectelBG95 do
  @moduledoc """
  Quectel BG95, BG77 and BG600L (2c7c:0700), LTE Cat M1/NB2 (the BG95-M3
  adds GSM).

  Id source: Quectel's Linux USB driver user guide (a vendor document), which
  lists 2c7c:0700 for these modules and the interface order they share with
  Quectel's other modules; the device is in the project's supplement to the
  port table (`data/usb_modem_ports_supplement.json`): 00 QCDM, 01 GPS
  NMEA, 02 primary AT port, 03 secondary AT port (PPP). There is no QMI
  interface. The commands are the Quectel family's
  (`VintageNetCellular.Modem.Quectel`); radio technologies are chosen with
  `AT+QCFG="iotopmode"`, as on the BG96.
  """
  use VintageNetCellular.Modem.Quectel, radio: :iot

  @impl true
  def name(), do: "Quectel BG95/BG77"

  @impl true
  def usb_ids(), do: [{0x2C7C, 0x0700}]

  @impl true
  def port_roles(_usb_id), do: %{}

  @impl true
  def optional_kernel_options(), do: []

  # Wired over one UART on many boards: multiplexed by default there
  # (Quectel's AT+CMUX: basic mode, UIH, 115200, N1 127, T1 100 ms, N2 3,
  # T2 300 ms, T3 10 s, k 2).
  @impl true
  def cmux(), do: %{command: "AT+CMUX=0,0,5,127,10,3,30,10,2", n1: 127, default?: true}
end

defmodule VintageNetCellular.Modem.SIMCom7080 do
  @moduledoc """
  SIMCom SIM7070/SIM7080/SIM7090 (LTE Cat M1/NB-IoT), in both USB layouts:

  * 1e0e:9205, the default layout: 00 QCDM, 01 GPS NMEA, 02 AT, 03 PPP;
  * 1e0e:9206, the secondary layout: 00 QCDM, 01 GPS NMEA, 02 AT,
    03 and 04 not used, 05 PPP.

  Both come from the port table; serial ports use the `option` driver. The
  default layout also offers CDC-ECM networking (`cdc_ether`), which PPP
  doesn't need.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CCID",
    cgauth: :standard,
    radio: :cat_m,
    signal_urc: false

  @impl true
  def name(), do: "SIMCom SIM7080"

  @impl true
  def usb_ids(), do: [{0x1E0E, 0x9205}, {0x1E0E, 0x9206}]

  @impl true
  def optional_kernel_options(), do: ["CONFIG_USB_NET_CDCETHER"]

  # Wired over one UART on many boards (hats, carrier boards): multiplexed
  # by default there (27.007 AT+CMUX: basic mode, UIH, 115200, N1 127).
  @impl true
  def cmux(), do: %{command: "AT+CMUX=0,0,5,127", n1: 127, default?: true}
end

defmodule VintageNetCellular.Modem.SIMCom7600 do
  @moduledoc """
  SIMCom SIM7600 family (SIM7000/SIM7100/SIM7600 in their default USB
  composition, 1e0e:9001).

  Serial interfaces (from the port table): 00 QCDM, 01 GPS NMEA, 02 primary AT
  port, 03 secondary AT port (PPP), 04 audio, all on the `option` driver.
  Interface 05 is the QMI network interface (`qmi_wwan`, wwan0), which PPP
  doesn't need.

  In its RNDIS composition (1e0e:9011) a SIM7600 shares the A7600's id and
  layout: see `VintageNetCellular.Modem.SIMComA7600`.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CICCID",
    cgauth: :password_first,
    radio: :cnmp,
    signal_urc: true

  @impl true
  def name(), do: "SIMCom SIM7600"

  @impl true
  def usb_ids(), do: [{0x1E0E, 0x9001}]

  @impl true
  def port_roles(_usb_id), do: %{5 => :qmi}

  @impl true
  def optional_kernel_options(), do: VintageNetCellular.ModemProfile.qmi_kernel_options()
end

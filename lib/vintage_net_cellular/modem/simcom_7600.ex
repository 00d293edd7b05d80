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

  With `data_path: :usb_net` (or `:auto`) it is switched to its ECM
  composition, 1e0e:9018 (`AT+CUSBPIDSWITCH=9018,1,1`; see
  `VintageNetCellular.ModemProfile.UsbNet`). That composition is taken to
  have the RNDIS composition's layout with ECM in interfaces 00/01: 04
  primary AT port, 05 PPP. This layout was not checked against a SIMCom
  document; where it differs, set `at_tty`/`ppp_tty`.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CICCID",
    cgauth: :password_first,
    radio: :cnmp,
    signal_urc: true

  @impl true
  def name(), do: "SIMCom SIM7600"

  @impl true
  def usb_ids(), do: [{0x1E0E, 0x9001}, {0x1E0E, 0x9018}]

  @impl true
  def port_roles({0x1E0E, 0x9018}), do: %{2 => :ignore, 3 => :ignore, 4 => :at_primary, 5 => :ppp}
  def port_roles(_usb_id), do: %{5 => :qmi}

  @impl true
  def usb_net_functions(_usb_id, cid), do: VintageNetCellular.ModemProfile.UsbNet.simcom_pid_ecm(cid)

  @impl true
  def optional_kernel_options(), do: VintageNetCellular.ModemProfile.qmi_kernel_options()
end

defmodule VintageNetCellular.Modem.SIMComA7600 do
  @moduledoc """
  SIMCom A76xx family (A7600E-H, A7602E-H, A7670E/SA/G) and the SIM7672,
  1e0e:9011.

  Serial interfaces (from the port table): 02 not used, 04 primary AT port,
  05 PPP, on the `option` driver; interfaces 00/01 are RNDIS networking,
  which PPP doesn't need. A SIM7600 switched to its RNDIS composition
  reports the same id with the same layout, and is handled here too.

  The id and layout come from the port table (ModemManager's SimTech rules,
  "SIM A7600E-H, A7602E-H"). The A7670 and SIM7672 (SIMCom's newer Cat-1
  modules on the same platform, with the same AT command set) enumerate
  with the same id and layout in their default RNDIS composition, as users
  report; that was not checked against a SIMCom document. Their other
  compositions are not claimed: use `modem: VintageNetCellular.Modem.Generic`
  with explicit `at_tty`/`ppp_tty` for those.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CICCID",
    cgauth: :password_first,
    radio: :cnmp,
    signal_urc: true

  @impl true
  def name(), do: "SIMCom A7600/A7670/SIM7672"

  @impl true
  def usb_ids(), do: [{0x1E0E, 0x9011}]

  @impl true
  def optional_kernel_options(), do: ["CONFIG_USB_NET_RNDIS_HOST"]

  # Its default composition has RNDIS: nothing to switch.
  @impl true
  def usb_net_functions(_usb_id, cid), do: VintageNetCellular.ModemProfile.UsbNet.fixed_rndis(cid)

  # Wired over one UART on many boards (hats, carrier boards): multiplexed
  # by default there (27.007 AT+CMUX: basic mode, UIH, 115200, N1 127).
  @impl true
  def cmux(), do: %{command: "AT+CMUX=0,0,5,127", n1: 127, default?: true}
end

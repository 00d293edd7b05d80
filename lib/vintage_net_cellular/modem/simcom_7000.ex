defmodule VintageNetCellular.Modem.SIMCom7000 do
  @moduledoc """
  SIMCom SIM7000 (SIM7000E/A/G, LTE Cat M1/NB-IoT with GSM fallback).

  A SIM7000 enumerates as 1e0e:9001, the id of the whole SIM7x00 family
  (the port table lists "SIM7000, SIM7100, SIM7600" under it): 00 QCDM, 01
  GPS NMEA, 02 primary AT port, 03 secondary AT port (PPP), on the `option`
  driver. Since the id can't tell a SIM7000 from a SIM7600 (and modems are
  never told apart by the strings they report), this profile lists no USB
  id of its own: discovery gives 1e0e:9001 to
  `VintageNetCellular.Modem.SIMCom7600`. Name this profile
  (`modem: VintageNetCellular.Modem.SIMCom7000`) to use the SIM7000's own
  commands; the port roles are the port table's for 1e0e:9001.

  They differ from the SIM7600's: the SIM7000 reads the ICCID with
  `AT+CCID`, takes `AT+CGAUTH` in the 27.007 order, has no `AT+AUTOCSQ`,
  and chooses Cat-M1/NB-IoT with `AT+CMNB` besides `AT+CNMP`, as the
  SIM7080 does.
  """
  use VintageNetCellular.Modem.SIMCom,
    iccid_command: "AT+CCID",
    cgauth: :standard,
    radio: :cat_m,
    signal_urc: false

  @impl true
  def name(), do: "SIMCom SIM7000"
end

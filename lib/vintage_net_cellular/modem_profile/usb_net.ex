defmodule VintageNetCellular.ModemProfile.UsbNet do
  @moduledoc """
  The USB network functions of the modem families: how each one is entered,
  checked, left and connected (`c:VintageNetCellular.ModemProfile.usb_net_functions/1`).

  A function is a map:

  * `kind`: `:ecm` (CDC Ethernet), `:ncm` (CDC NCM) or `:rndis`;
  * `driver`: the Linux driver that binds it (`"cdc_ether"`, `"cdc_ncm"`,
    `"rndis_host"`) and `kernel_option`, the option that builds it;
  * `enter`: a setting `{query, expected, set}` (see
    `VintageNetCellular.ModemProfile.Commands`): `query` reads the modem's USB
    composition setting back, `expected` is the answer when the function is
    selected, `set` selects it; `nil` when the family's composition always
    has the function (nothing to switch);
  * `restart`: what makes a new setting take effect (the modem resets and
    enumerates again); `[]` when `set` resets the modem by itself;
  * `leave`: the commands that select the family's default composition
    again (taking effect at the next restart);
  * `connect` and `disconnect`: the data call on the function, for PDP
    context `cid` (`[]` where the modem connects by itself).

  The facts come from the vendors' AT command manuals:

  * Quectel EC25/EG25, EG95, EC21, EG91, EM05, RM500Q/RM520N:
    `AT+QCFG="usbnet",<0 RmNet/QMI | 1 ECM | 2 MBIM | 3 RNDIS>`, read with
    `AT+QCFG="usbnet"`, taking effect after `AT+CFUN=1,1`; the data call
    `AT+QNETDEVCTL=<1 connect | 0 disconnect>,<cid>,<urc 0|1>`. Only ECM is
    offered: it keeps the serial interfaces 00-03 where they are (ECM takes
    04/05, QMI's place), while the RNDIS composition puts RNDIS first and
    moves the AT ports. BG96 and BG95 have no USB network function besides
    QMI: PPP only.
  * SIMCom SIM7600: the USB product id selects the composition,
    `AT+CUSBPIDSWITCH=<pid>,1,1` (9001 default with RmNet, 9011 RNDIS,
    9018 ECM), read with `AT+CUSBPIDSWITCH?`; the modem resets by itself; the
    data call `AT$QCRMCALL=<1 | 0>,<cid>`. Only ECM is offered: in its RNDIS
    composition the SIM7600 has the A7600's id (1e0e:9011) and is handled by
    that profile.
  * SIMCom A7600/A7670/SIM7672: the default composition (1e0e:9011) has
    RNDIS; the data call is 27.007 `AT+CGACT=1,<cid>`.
  * u-blox TOBY-L2, LARA-R6: `AT+UUSBCONF=<0 default | 2,"ECM" | 3,"RNDIS">`,
    read as `+UUSBCONF: 2,"ECM",,"0x1143"`, taking effect after `AT+CFUN=16`;
    in ECM the modem routes and the data call is `AT+CGACT=1,<cid>`.
  * Telit LE910Cx: the compositions with ECM or RNDIS are used as they
    enumerate (the data call `AT#ECM=1,0`, first instance, and `AT#ECMD=0`);
    `AT#USBCFG` switches compositions, but to ids whose port layout the port
    table lacks, so the profile doesn't switch.

      iex> [ecm] = VintageNetCellular.ModemProfile.UsbNet.quectel([:ecm], 1)
      iex> ecm.enter
      {~s(AT+QCFG="usbnet"), ~s(+QCFG: "usbnet",1), ~s(AT+QCFG="usbnet",1)}
      iex> {ecm.restart, ecm.connect}
      {["AT+CFUN=1,1"], ["AT+QNETDEVCTL=1,1,1"]}
  """

  @typedoc "A USB network function kind."
  @type kind() :: :ecm | :ncm | :rndis

  @typedoc "A USB network function of a modem family (see the moduledoc)."
  @type function_spec() :: %{
          kind: kind(),
          driver: String.t(),
          kernel_option: String.t(),
          enter: VintageNetCellular.ModemProfile.Commands.setting() | nil,
          restart: [String.t()],
          leave: [String.t()],
          connect: [String.t()],
          disconnect: [String.t()]
        }

  @drivers %{
    ecm: {"cdc_ether", "CONFIG_USB_NET_CDCETHER"},
    ncm: {"cdc_ncm", "CONFIG_USB_NET_CDC_NCM"},
    rndis: {"rndis_host", "CONFIG_USB_NET_RNDIS_HOST"}
  }

  @doc """
  The Linux driver of a function kind and the kernel option that builds it.

      iex> VintageNetCellular.ModemProfile.UsbNet.driver(:rndis)
      {"rndis_host", "CONFIG_USB_NET_RNDIS_HOST"}
  """
  @spec driver(kind()) :: {String.t(), String.t()}
  def driver(kind), do: Map.fetch!(@drivers, kind)

  @doc "Every kernel option a USB network function may need (for `diagnose`)."
  @spec kernel_options() :: [String.t()]
  def kernel_options, do: @drivers |> Map.values() |> Enum.map(&elem(&1, 1)) |> Enum.sort()

  defp spec(kind, fields) do
    {driver, option} = driver(kind)
    Map.merge(%{kind: kind, driver: driver, kernel_option: option, enter: nil, restart: [], leave: []}, Map.new(fields))
  end

  @doc "Quectel `usbnet` functions, in the order given (`:ecm`, `:rndis`)."
  @spec quectel([kind()], pos_integer()) :: [function_spec()]
  def quectel(kinds, cid) do
    codes = %{ecm: 1, rndis: 3}

    for kind <- kinds do
      code = Map.fetch!(codes, kind)

      spec(kind,
        enter: {~s(AT+QCFG="usbnet"), ~s(+QCFG: "usbnet",#{code}), ~s(AT+QCFG="usbnet",#{code})},
        restart: ["AT+CFUN=1,1"],
        leave: [~s(AT+QCFG="usbnet",0)],
        connect: ["AT+QNETDEVCTL=1,#{cid},1"],
        disconnect: ["AT+QNETDEVCTL=0,#{cid},0"]
      )
    end
  end

  @doc "SIMCom SIM7600 ECM (product id 9018)."
  @spec simcom_pid_ecm(pos_integer()) :: [function_spec()]
  def simcom_pid_ecm(cid) do
    [
      spec(:ecm,
        enter: {"AT+CUSBPIDSWITCH?", "+CUSBPIDSWITCH: 9018", "AT+CUSBPIDSWITCH=9018,1,1"},
        leave: ["AT+CUSBPIDSWITCH=9001,1,1"],
        connect: ["AT$QCRMCALL=1,#{cid}"],
        disconnect: ["AT$QCRMCALL=0,#{cid}"]
      )
    ]
  end

  @doc "A composition that always has RNDIS (SIMCom A7600): nothing to switch; 27.007 activation."
  @spec fixed_rndis(pos_integer()) :: [function_spec()]
  def fixed_rndis(cid), do: [spec(:rndis, connect: ["AT+CGACT=1,#{cid}"], disconnect: ["AT+CGACT=0,#{cid}"])]

  @doc "u-blox `UUSBCONF` functions (`:ecm`, `:rndis`)."
  @spec ublox([kind()], pos_integer()) :: [function_spec()]
  def ublox(kinds, cid) do
    settings = %{ecm: {2, "ECM"}, rndis: {3, "RNDIS"}}

    for kind <- kinds do
      {code, name} = Map.fetch!(settings, kind)

      spec(kind,
        enter: {"AT+UUSBCONF?", ~r/^\+UUSBCONF:\s*#{code},/, ~s(AT+UUSBCONF=#{code},"#{name}")},
        restart: ["AT+CFUN=16"],
        leave: ["AT+UUSBCONF=0"],
        connect: ["AT+CGACT=1,#{cid}"],
        disconnect: ["AT+CGACT=0,#{cid}"]
      )
    end
  end

  @doc """
  A Telit composition that has the function already (`AT#USBCFG` selects
  compositions, but the ids they enumerate under are not all in the port
  table, so the profile doesn't switch): the `AT#ECM` data call.
  """
  @spec telit_fixed(kind(), pos_integer()) :: [function_spec()]
  def telit_fixed(kind, _cid), do: [spec(kind, connect: ["AT#ECM=1,0"], disconnect: ["AT#ECMD=0"])]
end

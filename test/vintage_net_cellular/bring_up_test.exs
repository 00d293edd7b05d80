defmodule VintageNetCellular.BringUpTest do
  # The AT bring-up plan on its own (no connection manager, no monitor):
  # a simulated modem, a real ATPort on its AT pty, and
  # VintageNetCellular.Connection.BringUp.run/1 on data shaped as the
  # manager's.
  use ExUnit.Case, async: false

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Config
  alias VintageNetCellular.Connection.BringUp
  alias VintageNetCellular.Modem.QuectelEC25
  alias VintageNetCellular.Test.Simulator

  @moduletag timeout: 60_000

  setup do
    VintageNet.Double.reset()
    :ok
  end

  defp start(sim_args, options) do
    sim = start_supervised!({Simulator, ["--model", "ec25", "--seed", "3"] ++ sim_args}, id: :sim)
    port = start_supervised!({ATPort, tty: Simulator.ports(sim).at}, id: :at_port)
    wait_open(port)

    %{vintage_net_cellular: config} = Config.normalize(%{type: VintageNetCellular, vintage_net_cellular: options})

    data = %{
      ifname: "ppp0",
      config: config,
      settings: %{command_timeout: 3_000},
      modem: %{profile: QuectelEC25, usb_path: "1-1.2", at_tty: "ttyUSB2", ppp_tty: "ttyUSB3"},
      at_port: {make_ref(), port},
      # No monitor: the plan reads what it would otherwise ask the monitor.
      monitor: nil,
      pin_tried: %{},
      escape_tried?: false,
      failures: 0,
      last_failure: nil,
      iccid: nil,
      provider: nil
    }

    {sim, data}
  end

  defp wait_open(port, tries \\ 100) do
    cond do
      ATPort.status(port) == :opened -> :ok
      tries == 0 -> flunk("the AT port did not open")
      true -> Process.sleep(20) && wait_open(port, tries - 1)
    end
  end

  test "a provisioned modem: set up, SIM ready, provider chosen, nothing written" do
    {sim, data} = start(["--provisioned", "internet"], %{service_providers: [%{apn: "internet"}]})

    assert {:ok, done} = BringUp.run(data)
    assert done.provider.apn == "internet"
    assert done.iccid =~ ~r/\A\d{19,20}\z/
    assert done.failures == 0
    refute Enum.any?(Simulator.trace(sim), &(&1 =~ "at <- AT+CGDCONT="))
    assert Map.keys(Map.take(done, BringUp.changes())) |> Enum.sort() == Enum.sort(BringUp.changes())
  end

  test "a pinned IMEI without a monitor is read with AT+CGSN: the right one goes on, another is skipped" do
    {sim, data} =
      start(["--imei", "866922040000029", "--provisioned", "internet"], %{service_providers: [%{apn: "internet"}]})

    assert Enum.any?(Simulator.trace(sim), &(&1 =~ "866922040000029"))

    pinned = put_in(data.config.imei, "866922040000029")
    assert {:ok, _done} = BringUp.run(pinned)

    other = put_in(data.config.imei, "866922040000011")
    assert {:skip_modem, reason, _} = BringUp.run(other)
    assert reason =~ "has IMEI 866922040000029, not 866922040000011"
  end

  test "a pinned IMEI with a monitor that is gone is read with AT+CGSN" do
    {_sim, data} =
      start(["--imei", "866922040000029", "--provisioned", "internet"], %{service_providers: [%{apn: "internet"}]})

    dead = spawn(fn -> :ok end)
    ref = Process.monitor(dead)
    assert_receive {:DOWN, ^ref, :process, _, _}

    pinned = %{put_in(data.config.imei, "866922040000029") | monitor: {make_ref(), dead}}
    assert {:ok, _done} = BringUp.run(pinned)
  end

  test "no catch-all provider for this SIM: a retry that says why" do
    {_sim, data} =
      start(["--provisioned", "internet"], %{
        service_providers: [%{apn: "iot.1nce.net", only_iccid_prefixes: ["8988228"]}]
      })

    assert {:retry, reason, done} = BringUp.run(data)
    assert reason =~ "matches no only_iccid_prefixes"
    assert done.provider == nil
  end
end

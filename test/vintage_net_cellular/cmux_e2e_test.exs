defmodule VintageNetCellular.CmuxE2ETest do
  @moduledoc """
  One UART, full service (issue 14): a modem wired by a single serial port
  (the simulator's `--uart`: one pty, plain AT until `AT+CMUX`, then 3GPP TS
  27.010 basic mode) is multiplexed by the port program. PPP dials and runs
  on the data channel (a pty the port program offers), while the AT channel
  keeps serving the property monitor and `at/3`; a modem reboot drops it
  out of the multiplexer, and the interface comes back by itself.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.StatusWatch
  alias VintageNetCellular.Test.World

  @moduletag timeout: 120_000

  setup do
    World.setup_e2e(env: [monitor: [signal_poll_ms: 500]])
  end

  # The board's UART (ttyS1) is the simulator's only line.
  defp uart(world, model) do
    world = World.add_modem(world, :modem, model: model, args: ["--uart", "--reset-ms", "300"])
    sim = World.sim(world, :modem)
    link = Path.join(world.dev, "ttyS1")
    relink = fn -> File.rm(link) && File.ln_s!(Simulator.ports(sim).at, link) end
    relink.()

    # A reboot: the UART is the same, the simulator's pty is new.
    World.follow_resets(world, :modem, fn
      {:replugged, _} -> relink.()
      _ -> :ok
    end)

    {world, sim}
  end

  defp config(profile, extra \\ %{}) do
    %{
      type: VintageNetCellular,
      vintage_net_cellular:
        Map.merge(%{modem: profile, at_tty: "ttyS1", service_providers: [%{apn: "internet"}]}, extra)
    }
  end

  defp await(key, expected, timeout \\ 30_000),
    do: VintageNet.Double.await(["interface", "ppp0", "mobile", key], expected, timeout)

  for {model, profile} <- [
        sim7672: VintageNetCellular.Modem.SIMComA7600,
        bg96: VintageNetCellular.Modem.QuectelBG96,
        sim7080: VintageNetCellular.Modem.SIMCom7080
      ] do
    test "#{model} on one UART: PPP on the data channel, live signal and at/3 while connected, back after a reboot",
         %{world: world} do
      profile = unquote(profile)
      command = profile.cmux().command
      {world, sim} = uart(world, unquote(model))
      assert :ok = VintageNet.configure("ppp0", config(profile))
      # The manager answers at once all through: entering the multiplexer,
      # dialing on its data channel, the reboot and the way back.
      watch = StatusWatch.start("ppp0")
      await("state", :connected)

      assert {:ok, status} = VintageNet.ioctl("ppp0", :status)
      assert "/dev/pts/" <> _ = status.mux
      refute status.ppp_holds_at_port?
      assert command in World.received(world, :modem)

      # While PPP is up: at/3 answers on the AT channel, and the signal follows
      # the modem (polled and pushed on the same channel).
      assert {:ok, lines} = VintageNetCellular.at("ppp0", "AT+CSQ")
      assert Enum.any?(lines, &String.starts_with?(&1, "+CSQ:"))
      :ok = Simulator.control(sim, "signal 7")
      await("signal_asu", 7)
      :ok = Simulator.control(sim, "signal 28")
      await("signal_asu", 28)
      assert VintageNet.get(["interface", "ppp0", "mobile", "state"]) == :connected

      # The modem power-cycles: out of the multiplexer, a new line; the
      # interface enters it again and redials by itself.
      :ok = Simulator.control(sim, "replug_after 300")
      await("state", &(&1 != :connected), 20_000)
      await("state", :connected, 40_000)
      assert Enum.count(World.received(world, :modem), &(&1 == command)) == 2
      assert {:ok, _} = VintageNetCellular.at("ppp0", "AT+CSQ")

      watched = StatusWatch.stop(watch)
      assert watched.late == [], inspect(watched)
      assert :connected in watched.states and length(watched.states) >= 4, inspect(watched)
    end
  end

  test "a modem that stops answering on the multiplexer is found out, closed down and multiplexed again", %{
    world: world
  } do
    {world, sim} = uart(world, :sim7672)
    assert :ok = VintageNet.configure("ppp0", config(VintageNetCellular.Modem.SIMComA7600))
    await("state", :connected)

    # Silent on every channel: the port program's probes (TEST, then MSC)
    # go unanswered, the multiplexer is declared down, PPP hangs up.
    :ok = Simulator.control(sim, "mute on")
    await("state", &(&1 != :connected), 30_000)
    # Back, but still in 27.010 mode (the close-downs written while it was
    # mute were lost): the set-up's escape closes the multiplexer down blind,
    # then enters it again and redials.
    :ok = Simulator.control(sim, "mute off")
    await("state", :connected, 60_000)
    assert Enum.count(World.received(world, :modem), &(&1 == "AT+CMUX=0,0,5,127")) == 2
    assert {:ok, _} = VintageNetCellular.at("ppp0", "AT+CSQ")
  end

  test "cmux: false keeps the old way: PPP takes the only port, AT pauses while connected", %{world: world} do
    {world, _sim} = uart(world, :sim7672)
    assert :ok = VintageNet.configure("ppp0", config(VintageNetCellular.Modem.SIMComA7600, %{cmux: false}))
    await("state", :connected)
    assert {:ok, %{mux: nil, ppp_holds_at_port?: true}} = VintageNet.ioctl("ppp0", :status)
    refute Enum.any?(World.received(world, :modem), &String.starts_with?(&1, "AT+CMUX"))
  end
end

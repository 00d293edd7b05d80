defmodule VintageNetCellular.SimPinE2ETest do
  @moduledoc """
  The SIM is never locked by us (issue 12, part 3), end to end on the
  simulator: the PIN attempts left are read before a PIN is sent (Quectel
  `AT+QPINC`, SIMCom `AT+SPIC`, 27.007 `AT+CPINR`), no PIN is sent with one
  attempt left, and a refused PIN is remembered per ICCID
  (`VintageNetCellular.PinLedger`) across a reconfigure and across a restart
  of the whole VM.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.PinLedger
  alias VintageNetCellular.Test.World

  @moduletag timeout: 120_000
  @state ["interface", "ppp0", "mobile", "state"]
  @reason ["interface", "ppp0", "mobile", "reason"]

  # World.setup_e2e/0 gives each test a ledger of its own (`state_dir` in
  # the world's directory): nothing a test before it recorded counts.
  setup do
    World.setup_e2e()
  end

  defp config(pin) do
    %{
      type: VintageNetCellular,
      vintage_net_cellular: %{service_providers: [%{apn: "internet"}], sim_pin: pin}
    }
  end

  defp pins_sent(world), do: Enum.count(World.received(world, :m1, "at"), &String.starts_with?(&1, "AT+CPIN="))

  defp await_state(state, timeout \\ 20_000), do: VintageNet.Double.await(@state, state, timeout)

  defp locked_model(world, model, extra \\ []) do
    World.add_modem(world, :m1, model: model, args: ["--sim", "locked", "--pin", "2468"] ++ extra)
  end

  describe "a refused PIN" do
    test "is not sent again after a reconfigure; a corrected one is", %{world: world} do
      world = locked_model(world, :ec25)
      assert :ok = VintageNet.configure("ppp0", config("1111"))
      await_state(:sim_locked)
      assert pins_sent(world) == 1

      # A reconfigure starts a new interface supervisor: nothing of the old
      # one's memory is left, only the ledger on disk.
      assert :ok = VintageNet.deconfigure("ppp0")
      VintageNet.Double.await(@state, &(&1 != :sim_locked), 10_000)
      assert :ok = VintageNet.configure("ppp0", config("1111"))
      await_state(:sim_locked)
      assert VintageNet.get(@reason) =~ "rejected the configured :sim_pin"
      assert pins_sent(world) == 1
      assert {:ok, [~s(+QPINC: "SC",2,10)]} = VintageNetCellular.at(~s(AT+QPINC="SC"))

      # The user corrects the PIN: that one has never been refused.
      assert :ok = VintageNet.configure("ppp0", config("2468"))
      await_state(:connected)
      assert pins_sent(world) == 2
    end

    test "is remembered by ICCID and PIN on disk, never in clear", %{world: world} do
      iccid = "89014103211118510720"
      world = locked_model(world, :ec25, ["--iccid", iccid])
      assert :ok = VintageNet.configure("ppp0", config("1357"))
      await_state(:sim_locked)

      assert PinLedger.lookup({:iccid, iccid}, "1357") == :wrong
      assert PinLedger.lookup({:iccid, iccid}, "2468") == nil

      files = Path.wildcard(Path.join(PinLedger.dir(), "*"))
      assert length(files) == 1

      for file <- files do
        refute Path.basename(file) =~ iccid
        refute File.read!(file) =~ "1357"
      end

      assert pins_sent(world) == 1
    end
  end

  describe "one attempt left" do
    # Each family's own counter command: Quectel AT+QPINC, SIMCom AT+SPIC.
    for {model, command} <- [ec25: ~s(AT+QPINC="SC"), sim7600: "AT+SPIC"] do
      test "#{model}: the right PIN is still not sent (#{command})", %{world: world} do
        world = locked_model(world, unquote(model), ["--pin-attempts", "1"])
        assert :ok = VintageNet.configure("ppp0", config("2468"))
        await_state(:sim_locked)

        assert VintageNet.get(@reason) =~ "only one PIN attempt left"
        assert unquote(command) in World.received(world, :m1, "at")
        assert pins_sent(world) == 0
      end
    end

    test "two attempts left: the PIN is sent", %{world: world} do
      world = locked_model(world, :ec25, ["--pin-attempts", "2"])
      assert :ok = VintageNet.configure("ppp0", config("2468"))
      await_state(:connected)
      assert pins_sent(world) == 1
    end
  end

  describe "across a VM restart" do
    # The library runs in a VM of its own (a :peer node), which is stopped
    # and started again: only the files on disk carry over, as across a
    # reboot. The modem (the simulator) stays the same and counts the PINs.
    test "a refused PIN is never sent again", %{world: world} do
      world = locked_model(world, :ec25)
      persistence = Path.join(world.dir, "vintage_net")

      # Boot 1: configured; the SIM refuses the PIN; the power goes.
      {peer, vm} = start_vm(persistence)

      try do
        assert :ok = vm.(VintageNet, :configure, ["ppp0", config("1111")])
        await_in(vm, :sim_locked)
      after
        :peer.stop(peer)
      end

      assert pins_sent(world) == 1

      # Boot 2: VintageNet starts the saved configuration by itself.
      {peer, vm} = start_vm(persistence)

      try do
        await_in(vm, :sim_locked)
        assert vm.(VintageNet, :get, [@reason]) =~ "rejected"
      after
        :peer.stop(peer)
      end

      assert pins_sent(world) == 1
    end
  end

  # A fresh VM with the same code, app environment (the fixture sysfs, the
  # simulator's ttys, the ledger's directory) and a VintageNet double.
  defp start_vm(persistence_dir) do
    paths = Enum.flat_map(:code.get_path(), &[~c"-pa", &1])
    {:ok, peer, _node} = :peer.start(%{connection: :standard_io, args: paths})
    vm = fn m, f, a -> :peer.call(peer, m, f, a, 30_000) end

    env = [
      vintage_net_cellular: Application.get_all_env(:vintage_net_cellular),
      vintage_net: [persistence_dir: persistence_dir, tmpdir: VintageNet.Double.env()[:tmpdir]],
      logger: [level: :error]
    ]

    :ok = vm.(Application, :put_all_env, [env])
    {:ok, _} = vm.(Application, :ensure_all_started, [:vintage_net_cellular])
    {:ok, _} = vm.(VintageNet.Double, :start, [])
    {peer, vm}
  end

  defp await_in(vm, state, deadline \\ System.monotonic_time(:millisecond) + 20_000) do
    now = vm.(VintageNet, :get, [@state])

    cond do
      now == state ->
        :ok

      System.monotonic_time(:millisecond) > deadline ->
        flunk(
          "the restarted VM did not reach #{inspect(state)}: #{inspect(now)}, #{inspect(vm.(VintageNet, :get, [@reason]))}"
        )

      true ->
        Process.sleep(50)
        await_in(vm, state, deadline)
    end
  end
end

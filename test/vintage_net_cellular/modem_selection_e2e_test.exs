defmodule VintageNetCellular.ModemSelectionE2ETest do
  @moduledoc """
  End to end (see `VintageNetCellular.ConnectionE2ETest` for what is real):
  which modem an interface takes, on simulated modems plugged in under the
  USB ids a test chooses.

  * a profile written outside the library (`VintageNetCellular.Test.Profiles`,
    in test/support, with `use VintageNetCellular.Modem.Quectel`) is found,
    configured or as an extra profile, and connected;
  * the ports of an unknown device of a modem vendor are probed with `AT`;
  * a modem that doesn't answer is set aside, the next one is used, and it
    is taken again once replugged.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Connection.Probe
  alias VintageNetCellular.Modem
  alias VintageNetCellular.Test.Profiles
  alias VintageNetCellular.Test.Simulator
  alias VintageNetCellular.Test.World

  @moduletag :e2e
  @moduletag timeout: 120_000

  setup do
    World.setup_e2e()
  end

  defp config(extra) do
    %{type: VintageNetCellular, vintage_net_cellular: Map.merge(%{service_providers: [%{apn: "internet"}]}, extra)}
  end

  defp mobile(key), do: ["interface", "ppp0", "mobile", key]

  defp await_state(state, timeout \\ 20_000) do
    VintageNet.Double.await(mobile("state"), state, timeout)
  rescue
    e -> reraise "#{Exception.message(e)}; reason: #{inspect(VintageNet.get(mobile("reason")))}", __STACKTRACE__
  end

  # Modems that don't answer fail fast here.
  defp fail_fast do
    Application.put_env(:vintage_net_cellular, :command_timeout, 400)
    Application.put_env(:vintage_net_cellular, :probe_timeout, 400)
    Application.put_env(:vintage_net_cellular, :bring_up_attempts, 2)
  end

  describe "a profile of one's own" do
    # 2c7c:7f09 is in no shipped profile and not in the port table.
    test "configured as modem:, it is found by its usb_ids and port_roles and connects", %{world: world} do
      world = World.add_modem(world, :m1, fixture: [product_id: 0x7F09])
      assert :ok = VintageNet.configure("ppp0", config(%{modem: Profiles.QuectelX9}))
      await_state(:connected)

      assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)", profile: Profiles.QuectelX9}} = VintageNet.ioctl("ppp0", :status)
      # The family's commands, from `use VintageNetCellular.Modem.Quectel`.
      assert Enum.any?(World.received(world, :m1, "at"), &String.contains?(&1, "+QCCID"))
      # Known by its profile: nothing was probed.
      assert hd(World.received(world, :m1, "at")) != "AT"
    end

    test "listed in extra_profiles, modem: :auto finds it and connects", %{world: world} do
      Application.put_env(:vintage_net_cellular, :extra_profiles, [Profiles.QuectelX9])
      _world = World.add_modem(world, :m1, fixture: [product_id: 0x7F09])
      assert :ok = VintageNet.configure("ppp0", config(%{}))
      await_state(:connected)

      assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)", profile: Profiles.QuectelX9}} = VintageNet.ioctl("ppp0", :status)
    end
  end

  describe "Probe" do
    test "answers_at?/2: a port that answers OK, one that is mute, one with no device node" do
      {:ok, sim} = Simulator.start_link(["--model", "ec25"])
      {:ok, mute} = Simulator.start_link(["--model", "ec25", "--exec", "mute on"])

      assert Probe.answers_at?(Simulator.ports(sim).at, timeout: 1_000)

      {elapsed, answered?} = :timer.tc(fn -> Probe.answers_at?(Simulator.ports(mute).at, timeout: 300) end)
      refute answered?
      # Bounded: open, then one AT that times out.
      assert elapsed < 3_000_000

      refute Probe.answers_at?("ttyUSB99", timeout: 300, dev_root: "/nonexistent")
    end

    test "run/2: the first port that answers is the AT port, the second the PPP port" do
      {:ok, sim} = Simulator.start_link(["--model", "ec25"])
      %{at: at, ppp: ppp} = Simulator.ports(sim)

      modem = %{
        usb_path: "1-1.2",
        at_tty: "/nonexistent/ttyUSB0",
        ppp_tty: nil,
        probe: ["/nonexistent/ttyUSB0", at, ppp]
      }

      assert {:ok, probed} = Probe.run(modem, timeout: 1_000)
      assert {probed.at_tty, probed.ppp_tty} == {at, ppp}

      # One port answers: both name it; a configured PPP port stays.
      assert {:ok, %{at_tty: ^at, ppp_tty: ^at}} = Probe.run(%{modem | probe: [at]}, timeout: 1_000)

      assert {:ok, %{at_tty: ^at, ppp_tty: "ttyUSB9"}} =
               Probe.run(%{modem | probe: [at], ppp_tty: "ttyUSB9"}, timeout: 1_000)

      assert {:error, "no port answered AT (probed /nonexistent/ttyUSB0)"} =
               Probe.run(%{modem | probe: ["/nonexistent/ttyUSB0"]}, timeout: 300)

      # Nothing to probe: as it is.
      assert Probe.run(%{modem | probe: []}, timeout: 300) == {:ok, %{modem | probe: []}}
    end
  end

  describe "probing" do
    test "an unknown Quectel device: its ports are probed with AT, and the ones that answer are used",
         %{world: world} do
      # Its ttyUSB0 and ttyUSB1 have no device node here; ttyUSB2 and 3 are the simulator's.
      world = World.add_modem(world, :m1, fixture: [product_id: 0x7F0A])
      assert :ok = VintageNet.configure("ppp0", config(%{}))
      await_state(:connected)

      assert {:ok, %{modem: "1-1.2 (ttyUSB2/ttyUSB3)", profile: Modem.Generic}} = VintageNet.ioctl("ppp0", :status)
      # The probe's AT came first on each port.
      assert hd(World.received(world, :m1, "at")) == "AT"
      assert Enum.take(World.received(world, :m1, "ppp"), 2) == ["AT", "AT"]
      assert VintageNet.get(mobile("set_aside")) == nil
    end

    test "an unknown device whose ports don't answer is set aside, not used", %{world: world} do
      fail_fast()
      _world = World.add_modem(world, :m1, fixture: [product_id: 0x7F0A], args: ["--exec", "mute on"])
      assert :ok = VintageNet.configure("ppp0", config(%{}))

      # The probe runs beside the manager, which keeps answering meanwhile
      # (a call to a blocked manager would time out after 200 ms here).
      VintageNet.Double.await(mobile("reason"), &(is_binary(&1) and &1 =~ "probing the ports of"), 10_000)
      pid = VintageNetCellular.Interface.whereis("ppp0", :connection)
      assert %{state: :searching_modem, reason: reason} = :gen_statem.call(pid, :status, 200)
      assert reason =~ "probing"

      set_aside = VintageNet.Double.await(mobile("set_aside"), &is_map/1, 10_000)
      assert Map.keys(set_aside) == ["1-1.2"]
      assert set_aside["1-1.2"] =~ "no port answered AT (probed ttyUSB0, ttyUSB1, ttyUSB2, ttyUSB3)"
      VintageNet.Double.await(mobile("reason"), &(&1 =~ "every modem found is set aside"), 10_000)
      assert VintageNet.get(mobile("state")) == :searching_modem
    end
  end

  describe "a modem that doesn't answer" do
    test "is set aside after bring_up_attempts failures, and the next one is used", %{world: world} do
      fail_fast()

      _world =
        world
        |> World.add_modem(:mute, usb_path: "1-1.2", tty_base: 0, args: ["--exec", "mute on"])
        |> World.add_modem(:ok, usb_path: "1-1.3", tty_base: 4)

      assert :ok = VintageNet.configure("ppp0", config(%{}))
      await_state(:connected, 60_000)

      assert {:ok, %{modem: "1-1.3 (ttyUSB6/ttyUSB7)"}} = VintageNet.ioctl("ppp0", :status)
      assert %{"1-1.2" => why} = VintageNet.get(mobile("set_aside"))
      assert why =~ "does not answer AT commands on ttyUSB2"
      assert why =~ "set aside after 2 failed bring-ups in a row"
    end

    test "is taken again once replugged", %{world: world} do
      fail_fast()
      # Set aside at the first failed bring-up: each takes a while here.
      Application.put_env(:vintage_net_cellular, :bring_up_attempts, 1)
      world = World.add_modem(world, :m1, args: ["--exec", "mute on"])
      assert :ok = VintageNet.configure("ppp0", config(%{}))

      VintageNet.Double.await(mobile("set_aside"), &match?(%{"1-1.2" => _}, &1), 20_000)
      VintageNet.Double.await(mobile("reason"), &(&1 =~ "every modem found is set aside"), 10_000)

      # It answers again, but stays aside until it re-enumerates.
      :ok = Simulator.control(World.sim(world, :m1), "mute off")
      Process.sleep(1_000)
      assert VintageNet.get(mobile("state")) == :searching_modem

      world = World.unplug(world, :m1)
      VintageNet.Double.await(mobile("set_aside"), nil, 10_000)
      _world = World.replug(world, :m1, 4)
      await_state(:connected, 30_000)
      assert {:ok, %{modem: "1-1.2 (ttyUSB6/ttyUSB7)"}} = VintageNet.ioctl("ppp0", :status)
    end
  end
end

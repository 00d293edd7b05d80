defmodule VintageNetCellular.MonitorTest.Bogus do
  @moduledoc false
  # A profile whose vendor signal command this modem doesn't know.
  use VintageNetCellular.ModemProfile

  @impl true
  def name, do: "Bogus (monitor test)"

  @impl true
  def signal_commands, do: ["AT+XYZSIG", "AT+CESQ"]
end

defmodule VintageNetCellular.MonitorTest do
  # The monitor on the simulated modem, through the VintageNet double's real
  # PropertyTable (subscribe/put/delete semantics and tuple events).
  use ExUnit.Case, async: false

  alias VintageNetCellular.ATPort
  alias VintageNetCellular.Monitor
  alias VintageNetCellular.Monitor.Facts
  alias VintageNetCellular.Modem.QuectelEC25
  alias VintageNetCellular.Modem.SIMCom7600
  alias VintageNetCellular.Test.Simulator

  doctest Monitor, only: [urc_prefixes: 0]

  @moduletag timeout: 60_000
  @ifname "ppp0"
  @prefix ["interface", @ifname, "mobile"]

  setup do
    VintageNet.Double.reset()
    :ok
  end

  defp name(key), do: @prefix ++ [key]
  defp get(key), do: VintageNet.get(name(key))
  defp await(key, expected, timeout \\ 5_000), do: VintageNet.Double.await(name(key), expected, timeout)

  # Starts the simulator, an ATPort on its AT pty and the monitor; the test
  # process subscribes to the mobile prefix first, so it sees every event.
  defp start_modem(model, profile, config \\ [], sim_args \\ []) do
    sim = start_supervised!({Simulator, ["--model", model, "--seed", "7"] ++ sim_args}, id: :sim)
    :ok = Simulator.control(sim, "signal auto off")
    :ok = Simulator.control(sim, "signal 20")
    %{at: at} = Simulator.ports(sim)
    port = start_supervised!({ATPort, tty: at}, id: :at_port)
    :ok = VintageNet.subscribe(@prefix)

    monitor =
      start_supervised!(
        {Monitor,
         ifname: @ifname,
         at_port: port,
         profile: profile,
         config: Keyword.merge([signal_poll_ms: 60_000, cell_poll_ms: 60_000], config)},
        id: :monitor
      )

    %{sim: sim, port: port, monitor: monitor}
  end

  # Every event received so far (and during `ms`), oldest first.
  defp events(ms \\ 100) do
    receive do
      {VintageNet, _name, _old, _new, _meta} = event -> [event | events(ms)]
    after
      ms -> []
    end
  end

  defp assert_no_duplicates(events) do
    for {VintageNet, name, old, new, _meta} <- events do
      refute old === new, "event with the same old and new value for #{inspect(name)}: #{inspect(new)}"
    end
  end

  defp key_of({VintageNet, name, _old, _new, _meta}), do: List.last(name)

  defp eventually(fun, tries \\ 100) do
    cond do
      fun.() ->
        true

      tries == 0 ->
        false

      true ->
        Process.sleep(20)
        eventually(fun, tries - 1)
    end
  end

  defp pets, do: Enum.count(VintageNet.Double.calls(:pm_control), &(&1 == {:pet_watchdog, @ifname}))

  describe "a Quectel EC25" do
    test "every key appears with its documented type" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)

      assert await("manufacturer", "Quectel") == "Quectel"
      assert await("model", "EC25") == "EC25"
      assert await("revision", "EC25EFAR06A06M4G")
      assert await("imei", &(is_binary(&1) and &1 =~ ~r/^\d{15}$/))
      assert await("registration", :registered_home)
      assert await("roaming", false) == false
      assert await("mcc", "310") == "310"
      assert await("mnc", "410") == "410"
      assert await("provider", "AT&T") == "AT&T"
      assert await("network", "AT&T") == "AT&T"
      assert await("access_technology", "FDD LTE") == "FDD LTE"
      assert await("radio", :lte) == :lte
      assert await("band", &is_binary/1) =~ "LTE BAND"
      assert is_integer(await("channel", &is_integer/1))

      for key <- ~w(lac tac cid signal_asu signal_dbm signal_4bars signal_rsrp signal_rsrq signal_sinr) do
        assert is_integer(await(key, &is_integer/1)), key
      end

      assert get("signal_asu") == 20
      assert get("signal_dbm") == -73
      assert get("signal_4bars") in 0..4

      # The simulated modem sends no network time by itself.
      :ok = Simulator.control(sim, ~s(urc +CTZE: "+04",0,"2025/05/01,14:00:00"))
      assert await("network_datetime", ~N[2025-05-01 13:00:00])
      assert get("utc_offset") == 3600
      assert get("std_offset") == 0

      props = Map.new(VintageNet.get_by_prefix(@prefix), fn {name, value} -> {List.last(name), value} end)
      assert props |> Map.keys() |> Enum.sort() == Enum.sort(Facts.owned_keys())
      refute Enum.any?(props, fn {_k, v} -> v in ["Unknown", "unknown", 99, -113] end)
    end

    test "a storm of cell changes is published coalesced, ending on the last cell" do
      %{sim: sim, monitor: monitor} = start_modem("ec25", QuectelEC25)
      await("band", &is_binary/1)
      urcs_before = Monitor.stats(monitor).urcs
      _ = events()

      # 500 +CEREG lines in one write, each naming another cell.
      :ok = Simulator.control(sim, "cell_storm 500")
      last = 0x01C3D000 + 499
      assert await("cid", last) == last
      assert eventually(fn -> Monitor.stats(monitor).urcs - urcs_before == 500 end)

      cids = for {VintageNet, _, _old, new, _} = e <- events(300), key_of(e) == "cid", do: new
      # Each URC was taken, but the table got far fewer writes than URCs.
      assert length(cids) in 1..100, "#{length(cids)} cid events for 500 URCs"
      assert List.last(cids) == last
      assert_no_duplicates(events())
    end

    test "a pushed signal URC changes the properties at once; the same value sends nothing" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)
      await("signal_rsrp", &is_integer/1)
      await("network", "AT&T")
      _ = events()

      :ok = Simulator.control(sim, "signal 25")

      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "signal_asu"], 20, 25, meta}, 2_000
      assert %{old_timestamp: t0, new_timestamp: t1} = meta
      assert is_integer(t0) and is_integer(t1) and t1 >= t0
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "signal_dbm"], -73, -63, _}, 1_000

      # Only signal keys moved.
      moved = events(200) |> Enum.map(&key_of/1) |> Enum.uniq()
      assert moved -- ~w(signal_asu signal_dbm signal_4bars) == []

      :ok = Simulator.control(sim, "signal 25")
      :ok = Simulator.control(sim, ~s(urc +QIND: "csq",25,99))
      assert events(300) == []
    end

    test "deregistration removes operator and cell keys; re-registration brings them back" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")
      await("band", &is_binary/1)
      _ = events()

      :ok = Simulator.control(sim, "reg searching")
      assert await("registration", :searching) == :searching

      for key <- ~w(roaming mcc mnc provider network access_technology radio lac tac cid band channel) do
        assert await(key, nil) == nil, key
        refute Enum.any?(VintageNet.get_by_prefix(@prefix), fn {n, _} -> List.last(n) == key end), key
      end

      # The modem is still there: identity and signal stay.
      assert get("imei") != nil
      assert get("signal_asu") == 20

      :ok = Simulator.control(sim, "reg home")
      assert await("registration", :registered_home)
      assert await("mcc", "310")
      assert await("network", "AT&T")
      assert await("band", &is_binary/1)
      assert_no_duplicates(events())
    end

    test "a denial without a cause is read with n=3 once; sim_rej_info follows the cause" do
      %{sim: sim, monitor: monitor} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")
      assert await("sim_rej_info", :available) == :available

      # #7 "EPS services not allowed": the SIM is invalid for packet data.
      :ok = Simulator.control(sim, "reg denied 7")
      assert await("registration", :denied)
      assert await("sim_rej_info", :ps_invalid) == :ps_invalid

      stats = Monitor.stats(monitor)
      assert stats.by_command["AT+CEREG=3"] == 1
      assert stats.by_command["AT+CEREG?"] >= 2
      # n=2 is put back: the setup sent it once, the reject read once more.
      assert stats.by_command["AT+CEREG=2"] == 2

      :ok = Simulator.control(sim, "reg home")
      assert await("sim_rej_info", :available) == :available

      # #15 "no suitable cells" leaves the SIM valid.
      :ok = Simulator.control(sim, "reg denied 15")
      assert await("registration", :denied)
      assert eventually(fn -> Monitor.stats(monitor).by_command["AT+CEREG=3"] == 2 end)
      assert eventually(fn -> Monitor.stats(monitor).by_command["AT+CEREG=2"] == 3 end)
      # Absent while the cause is unknown, then :available once #15 is read.
      assert await("sim_rej_info", :available) == :available
    end

    test "denied and roaming registrations" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")

      :ok = Simulator.control(sim, "reg denied 15")
      assert await("registration", :denied)
      assert await("mcc", nil) == nil

      :ok = Simulator.control(sim, "reg roaming")
      assert await("registration", :registered_roaming)
      assert await("roaming", true)
      assert await("mcc", "310")
    end

    test "SIM removal deletes registration, operator and cell keys; a new SIM brings them back" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")
      _ = events()

      :ok = Simulator.control(sim, "sim remove")
      assert await("mcc", nil) == nil
      assert await("registration", &(&1 in [nil, :not_registered])) in [nil, :not_registered]

      gone = events(300)
      deleted = for {VintageNet, _, _old, nil, _} = e <- gone, do: key_of(e)
      for key <- ~w(mcc mnc provider network radio cid band), do: assert(key in deleted, key)
      assert get("model") == "EC25"

      :ok = Simulator.control(sim, "sim insert")
      assert await("registration", :registered_home, 10_000)
      assert await("mcc", "310")
      assert await("provider", "AT&T")
    end

    test "an operator change updates MCC/MNC, provider and network" do
      %{sim: sim} = start_modem("ec25", QuectelEC25, cell_poll_ms: 300)
      await("network", "AT&T")
      _ = events()

      :ok = Simulator.control(sim, ~s(operator 310260 "T-Mobile"))
      assert await("mnc", "260")
      assert await("provider", "T-Mobile")
      assert await("network", "T-Mobile")
      assert get("mcc") == "310"

      changed = events(200)
      assert_no_duplicates(changed)

      # One event per changed key: no transient nil or half-updated operator.
      counts = Enum.frequencies(Enum.map(changed, &key_of/1))
      assert counts["mnc"] == 1
      assert counts["provider"] == 1
      assert counts["network"] == 1
      assert Enum.all?(counts, fn {_key, n} -> n == 1 end), inspect(changed)
    end

    test "re-enumeration: the port closes, every key goes; a new port reads identity again" do
      %{sim: sim, port: port, monitor: monitor} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")
      imei = await("imei", &is_binary/1)
      ref = Process.monitor(monitor)

      :ok = Simulator.control(sim, "unplug")
      {:ok, _} = Simulator.await(sim, "unplugged")

      for key <- Facts.owned_keys(), do: assert(await(key, nil) == nil, key)
      assert VintageNet.get_by_prefix(@prefix) == []

      :ok = Simulator.control(sim, "replug")
      {:ok, %{ports: %{at: new_at}}} = Simulator.await(sim, "replugged")

      # As the connection manager does: the old port goes, the monitor follows it.
      :ok = stop_supervised(:at_port)
      assert_receive {:DOWN, ^ref, :process, ^monitor, :normal}, 2_000
      refute Process.alive?(port)

      new_port = start_supervised!({ATPort, tty: new_at}, id: :at_port)
      start_supervised!({Monitor, ifname: @ifname, at_port: new_port, profile: QuectelEC25}, id: :monitor2)

      assert await("imei", imei) == imei
      assert await("model", "EC25")
      assert await("network", "AT&T")
    end

    test "the watchdog is petted while registered with signal" do
      %{sim: sim} = start_modem("ec25", QuectelEC25)
      await("signal_4bars", &is_integer/1)
      await("registration", :registered_home)
      :ok = Simulator.control(sim, "signal 22")
      await("signal_asu", 22)
      # The pet follows the write in the same monitor step.
      assert eventually(fn -> pets() > 0 end)
    end

    test "stopping the monitor deletes its keys and only its keys" do
      %{monitor: monitor} = start_modem("ec25", QuectelEC25)
      await("network", "AT&T")
      VintageNetCellular.PropertyWriter.put(@ifname, "state", :connected)

      :ok = Monitor.stop(monitor)
      assert VintageNet.get_by_prefix(@prefix) == [{name("state"), :connected}]
    end

    test "network time: AT+CTZR=2 and AT+QLTS at setup, a +CTZE URC sets the time keys at once" do
      %{sim: sim, monitor: monitor} = start_modem("ec25", QuectelEC25)
      await("registration", :registered_home)

      stats = Monitor.stats(monitor)
      assert stats.by_command["AT+CTZR=2"] == 1
      assert stats.by_command["AT+QLTS"] == 1

      :ok = Simulator.control(sim, ~s(urc +CTZE: "-16",1,"2024/07/04,12:00:05"))
      assert await("network_datetime", ~N[2024-07-04 16:00:05]) == ~N[2024-07-04 16:00:05]
      assert get("utc_offset") == -18_000
      assert get("std_offset") == 3600

      # A zone change without DST information (+CTZV) keeps the last date.
      :ok = Simulator.control(sim, ~s(urc +CTZV: "-20"))
      assert await("std_offset", nil) == nil
      assert get("utc_offset") == -18_000
      assert get("network_datetime") == ~N[2024-07-04 16:00:05]
    end

    test "with signal URCs on, AT+CSQ is read once and never polled" do
      %{monitor: monitor} = start_modem("ec25", QuectelEC25, signal_poll_ms: 200)
      await("signal_rsrp", &is_integer/1)
      Process.sleep(700)

      stats = Monitor.stats(monitor)
      assert stats.by_command["AT+CSQ"] == 1
      assert stats.by_command["AT+QCSQ"] >= 3
      assert stats.unsupported == []
    end
  end

  describe "a modem that stops answering" do
    test "identity is retried until it is read" do
      sim = start_supervised!({Simulator, ["--model", "ec25", "--seed", "7"]}, id: :sim)
      :ok = Simulator.control(sim, "mute on")
      %{at: at} = Simulator.ports(sim)
      port = start_supervised!({ATPort, tty: at}, id: :at_port)

      start_supervised!(
        {Monitor,
         ifname: @ifname, at_port: port, profile: QuectelEC25, command_timeout: 200, config: [identity_retry_ms: 100]},
        id: :monitor
      )

      Process.sleep(800)
      assert get("imei") == nil
      assert get("model") == nil

      :ok = Simulator.control(sim, "mute off")
      assert await("imei", &is_binary/1, 10_000) =~ ~r/^\d{15}$/
      assert await("model", "EC25", 5_000)
      assert await("network", "AT&T", 5_000)
    end

    test "timeouts keep the last values and stop petting the watchdog" do
      %{sim: sim} = start_modem("ec25", QuectelEC25, signal_poll_ms: 150)
      await("signal_rsrp", &is_integer/1)
      await("network", "AT&T")
      Process.sleep(400)
      assert pets() > 0

      :ok = Simulator.control(sim, "mute on")
      Process.sleep(600)
      before = pets()
      Process.sleep(1_000)
      assert pets() == before

      # Nothing flapped: the last values are still there.
      assert get("signal_rsrp") |> is_integer()
      assert get("network") == "AT&T"
      assert get("registration") == :registered_home
    end
  end

  describe "unsupported commands" do
    test "a poll command answered ERROR three times in a row is not sent again" do
      %{monitor: monitor} = start_modem("ec25", VintageNetCellular.MonitorTest.Bogus, signal_poll_ms: 100)
      await("signal_rsrp", &is_integer/1)
      assert eventually(fn -> Monitor.stats(monitor).unsupported == ["AT+XYZSIG"] end)

      sent = Monitor.stats(monitor).by_command["AT+XYZSIG"]
      Process.sleep(500)
      stats = Monitor.stats(monitor)
      assert sent == 3
      assert stats.by_command["AT+XYZSIG"] == 3
      # The other signal command goes on.
      assert stats.by_command["AT+CESQ"] >= 6
    end
  end

  describe "a SIMCom SIM7600" do
    test "CPSI gives cell and LTE values, AUTOCSQ pushes CSQ" do
      %{sim: sim} = start_modem("sim7600", SIMCom7600)

      assert await("manufacturer", "SIMCOM INCORPORATED")
      assert await("revision", "LE20B04SIM7600M22")
      assert await("access_technology", "LTE")
      assert await("radio", :lte)
      assert await("band", &is_binary/1) =~ "BAND"
      assert is_integer(await("signal_sinr", &is_integer/1))
      assert is_integer(await("signal_rsrp", &is_integer/1))
      _ = events()

      :ok = Simulator.control(sim, "signal 10")
      assert_receive {VintageNet, ["interface", "ppp0", "mobile", "signal_asu"], 20, 10, _}, 2_000
    end
  end

  describe "a modem without a vendor profile" do
    test "27.007 only: CSQ polled, CESQ for RSRP/RSRQ, no band or channel" do
      %{sim: sim, monitor: monitor} = start_modem("ec25", nil, signal_poll_ms: 200)

      assert await("radio", :lte)
      assert await("access_technology", "E-UTRAN")
      assert await("network", "AT&T")
      assert is_integer(await("signal_rsrp", &is_integer/1))
      assert await("signal_sinr", nil) == nil
      refute Enum.any?(VintageNet.get_by_prefix(@prefix), fn {n, _} -> List.last(n) in ["band", "channel"] end)

      :ok = Simulator.control(sim, "signal 12")
      assert await("signal_asu", 12, 2_000)
      assert Monitor.stats(monitor).by_command["AT+CSQ"] >= 2
    end

    test "an operator change is noticed by the periodic +COPS check" do
      %{sim: sim} = start_modem("ec25", nil, cell_poll_ms: 300)
      await("network", "AT&T")

      :ok = Simulator.control(sim, ~s(operator 26201 "Telekom.de"))
      assert await("mcc", "262")
      assert await("mnc", "01")
      assert await("provider", "Telekom")
      assert await("network", "Telekom.de")
    end
  end
end

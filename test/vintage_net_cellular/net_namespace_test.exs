defmodule VintageNetCellular.NetNamespaceTest do
  @moduledoc """
  The namespace rig (`VintageNetCellular.Test.NetNamespace`), the far end of
  the tests of a modem's USB network function: a real DHCP client (busybox
  udhcpc, as vintage_net runs it) gets a lease from the rig's dnsmasq, the
  device side reaches the far address, no DHCP server means no lease within
  a bound, a link taken down on the network side takes the device end's
  carrier down, and nothing is left behind.

  `mix test --only netns` runs these alone.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.NetNamespace

  @moduletag :netns
  @moduletag timeout: 120_000

  @skip (case NetNamespace.available() do
           :ok -> nil
           {:skip, reason} -> reason
         end)

  # ExUnit doesn't show why a test was skipped: say it here.
  if @skip do
    IO.puts(:stderr, "NetNamespaceTest: every test is skipped: #{@skip}")
    @moduletag skip: @skip
  end

  setup context do
    opts = Map.get(context, :rig, [])

    case NetNamespace.start(opts) do
      {:ok, rig} ->
        on_exit(fn -> NetNamespace.stop(rig) end)
        %{rig: rig}

      {:skip, reason} ->
        flunk("the rig was available when the module compiled, and is not now: #{reason}")

      {:error, reason} ->
        flunk("the rig didn't start: #{inspect(reason)}")
    end
  end

  defp lease!(rig, opts \\ []) do
    case NetNamespace.run_udhcpc(rig, opts) do
      {:ok, lease} ->
        lease

      {:error, reason} ->
        flunk("""
        udhcpc got no lease: #{inspect(reason)}
        dnsmasq's log:
        #{NetNamespace.dhcp_log(rig)}
        """)
    end
  end

  defp device!(rig, argv) do
    case NetNamespace.device_cmd(rig, argv) do
      {out, 0} -> out
      {out, status} -> flunk("#{Enum.join(argv, " ")} in the device namespace: exit #{status}: #{out}")
    end
  end

  defp await(fun, timeout_ms \\ 5000) do
    deadline = System.monotonic_time(:millisecond) + timeout_ms
    await_until(fun, deadline)
  end

  defp await_until(fun, deadline) do
    value = fun.()

    cond do
      value == true -> true
      System.monotonic_time(:millisecond) > deadline -> value
      true -> Process.sleep(50) && await_until(fun, deadline)
    end
  end

  defp in_range?(address) do
    case String.split(address, ".") do
      ["192", "168", "225", last] ->
        case Integer.parse(last) do
          {n, ""} -> n in 100..199
          _ -> false
        end

      _ ->
        false
    end
  end

  test "udhcpc on the device end gets a lease from dnsmasq and applies it with ip", %{rig: rig} do
    lease = lease!(rig)

    assert in_range?(lease["ip"]), "lease outside the DHCP range: #{inspect(lease)}"
    assert lease["interface"] == "usb0"
    assert lease["mask"] == "24"
    assert lease["router"] == "192.168.225.1"
    assert lease["dns"] == "192.168.225.1"
    assert lease["serverid"] == "192.168.225.1"

    # The script applied it: the address on usb0, the default route through
    # the network side.
    addresses = device!(rig, ["ip", "-4", "-o", "addr", "show", "dev", "usb0"])
    assert addresses =~ "inet #{lease["ip"]}/24", addresses
    routes = device!(rig, ["ip", "-4", "route", "show", "default"])
    assert routes =~ "default via 192.168.225.1 dev usb0", routes

    # dnsmasq's side of it: the lease under the device end's MAC.
    mac = device!(rig, ["cat", "/sys/class/net/usb0/address"]) |> String.trim()
    assert %{mac: mac, ip: lease["ip"]} in NetNamespace.leases(rig), NetNamespace.dhcp_log(rig)

    # And the DNS server it hands out answers (inside the network namespace).
    answer = device!(rig, ["busybox", "nslookup", "-type=a", "far.vnc13.test", "192.168.225.1"])

    assert answer =~ "10.11.12.13", answer
  end

  test "the device side reaches the far address only through its lease", %{rig: rig} do
    # No address and no route yet: the far end is unreachable.
    assert {:error, {_status, out}} = NetNamespace.reach_far_end(rig)
    assert NetNamespace.far_end_peers(rig) == [], out

    lease = lease!(rig)

    assert {:ok, greeting} = NetNamespace.reach_far_end(rig)
    assert greeting == "vnc13 far end: hello #{lease["ip"]}"
    # The listener saw the connection come from the leased address.
    assert NetNamespace.far_end_peers(rig) == [lease["ip"]]
  end

  test "with the DHCP server stopped the client gets no lease, within a bound", %{rig: rig} do
    pid = NetNamespace.dhcp_server_pid(rig)
    assert is_integer(pid)
    assert :ok = NetNamespace.stop_dhcp(rig)
    assert NetNamespace.dhcp_server_pid(rig) == nil
    refute File.exists?("/proc/#{pid}/status") and not zombie?(pid), "dnsmasq #{pid} still runs"

    started = System.monotonic_time(:millisecond)
    assert {:error, {:no_lease, status, out}} = NetNamespace.run_udhcpc(rig, tries: 2)
    elapsed = System.monotonic_time(:millisecond) - started

    assert status == 1, "udhcpc exit #{status}: #{out}"
    assert out =~ "no lease", out
    assert elapsed < 8_000, "udhcpc took #{elapsed} ms"
    assert device!(rig, ["ip", "-4", "-o", "addr", "show", "dev", "usb0"]) == ""

    # Started again, it answers again.
    assert :ok = NetNamespace.start_dhcp(rig)
    assert in_range?(lease!(rig)["ip"])
  end

  test "the network side's link going down takes the device end's carrier down", %{rig: rig} do
    assert NetNamespace.operstate(rig) == {:ok, "up"}
    assert device!(rig, ["cat", "/sys/class/net/usb0/carrier"]) == "1\n"

    assert :ok = NetNamespace.link_down(rig)
    assert await(fn -> NetNamespace.operstate(rig) == {:ok, "down"} end) == true
    assert device!(rig, ["cat", "/sys/class/net/usb0/carrier"]) == "0\n"
    # A lease can't be had over a link without carrier.
    assert {:error, {:no_lease, _, _}} = NetNamespace.run_udhcpc(rig, tries: 1)

    assert :ok = NetNamespace.link_up(rig)
    assert await(fn -> NetNamespace.operstate(rig) == {:ok, "up"} end) == true
    assert in_range?(lease!(rig)["ip"])
  end

  @tag rig: [ifname: "enx0a1b2c3d4e5f"]
  test "an enx name: the device end has the MAC its name says", %{rig: rig} do
    assert device!(rig, ["cat", "/sys/class/net/enx0a1b2c3d4e5f/address"]) ==
             "0a:1b:2c:3d:4e:5f\n"

    lease = lease!(rig)
    assert lease["interface"] == "enx0a1b2c3d4e5f"
    assert %{mac: "0a:1b:2c:3d:4e:5f", ip: lease["ip"]} in NetNamespace.leases(rig)
  end

  test "dnsmasq runs in the network namespace, not the host's", %{rig: rig} do
    pid = NetNamespace.dhcp_server_pid(rig)
    assert is_integer(pid)

    network_ns = File.stat!("/run/netns/#{rig.network_ns}").inode
    assert net_ns_inode("/proc/#{pid}/ns/net") == network_ns
    refute net_ns_inode("/proc/self/ns/net") == network_ns
  end

  # /proc/PID/ns/net links to "net:[INODE]".
  defp net_ns_inode(link) do
    with {:ok, target} <- File.read_link(link),
         [_, digits] <- Regex.run(~r/\Anet:\[(\d+)\]\z/, target) do
      String.to_integer(digits)
    else
      other -> flunk("#{link}: not a network namespace link: #{inspect(other)}")
    end
  end

  test "stop/1 leaves no namespace, process or temp dir behind", %{rig: rig} do
    pid = NetNamespace.dhcp_server_pid(rig)
    assert is_integer(pid)
    assert rig.device_ns in netns_list()
    assert rig.network_ns in netns_list()

    assert :ok = NetNamespace.stop(rig)

    refute rig.device_ns in netns_list()
    refute rig.network_ns in netns_list()
    refute File.exists?(rig.dir)
    refute Process.alive?(rig.server)
    refute File.exists?("/proc/#{pid}/status") and not zombie?(pid), "dnsmasq #{pid} still runs"
    # Twice is fine.
    assert :ok = NetNamespace.stop(rig)
  end

  test "leftovers of a BEAM that is gone are removed, with the processes inside" do
    # pid_max is at most 2^22: no process has this pid.
    stale = "vnc13-99999999-1"
    ns = stale <> "-net"
    dir = Path.join(System.tmp_dir!(), stale)
    File.mkdir_p!(dir)
    assert {_, 0} = System.cmd("ip", ["netns", "add", ns], stderr_to_stdout: true)
    on_exit(fn -> System.cmd("ip", ["netns", "del", ns], stderr_to_stdout: true) end)

    # A process left running inside it, as a killed BEAM's dnsmasq would be.
    port =
      Port.open({:spawn_executable, System.find_executable("ip")}, [
        :exit_status,
        args: ["netns", "exec", ns, "sleep", "600"]
      ])

    {:os_pid, sleeper} = Port.info(port, :os_pid)
    assert await(fn -> netns_pids(ns) == [Integer.to_string(sleeper)] end) == true

    removed = NetNamespace.cleanup_leftovers()

    assert ns in removed
    assert stale in removed
    refute ns in netns_list()
    refute File.exists?(dir)
    assert_receive {^port, {:exit_status, _}}, 5000
  end

  defp netns_list do
    case System.cmd("ip", ["netns", "list"], stderr_to_stdout: true) do
      {out, 0} ->
        for line <- String.split(out, "\n", trim: true), do: line |> String.split(" ") |> hd()

      {out, status} ->
        flunk("ip netns list: exit #{status}: #{out}")
    end
  end

  defp netns_pids(ns) do
    case System.cmd("ip", ["netns", "pids", ns], stderr_to_stdout: true) do
      {out, 0} -> String.split(out, "\n", trim: true)
      {out, status} -> flunk("ip netns pids #{ns}: exit #{status}: #{out}")
    end
  end

  # A zombie has exited; only its parent hasn't collected it yet.
  defp zombie?(pid) do
    case File.read("/proc/#{pid}/status") do
      {:ok, text} -> text =~ ~r/^State:\s+Z/m
      {:error, _} -> true
    end
  end
end

defmodule VintageNetCellular.DataPathTest do
  @moduledoc """
  The data-path seam (issue 11, part 5): the connection manager drives any
  `VintageNetCellular.DataPath`, not only PPP. A data path of the test's own
  (no pppd, no dialer) is started once the simulated modem is registered,
  reports its link, is seen to die, and is started again.
  """
  use ExUnit.Case, async: false

  alias VintageNetCellular.Test.World

  doctest VintageNetCellular.DataPath.PPP

  defmodule FakePath do
    @moduledoc false
    @behaviour VintageNetCellular.DataPath

    @impl true
    def new(), do: %{child: nil}

    @impl true
    def cleanup(path, _ctx), do: path

    @impl true
    def start(path, ctx) do
      spec = Supervisor.child_spec({Agent, fn -> :carrying end}, id: :fake_path, restart: :temporary)

      case DynamicSupervisor.start_child(ctx.workers, spec) do
        {:ok, pid} ->
          ref = Process.monitor(pid)
          send(Application.fetch_env!(:vintage_net_cellular, :fake_path_test), {:fake_started, pid, ctx.provider.apn})

          VintageNetCellular.Connection.link_event(ctx.ifname, %{
            kind: :ip_up,
            local: {10, 9, 8, 7},
            remote: {10, 9, 8, 1},
            dns: [{10, 9, 8, 53}],
            env: %{}
          })

          {:ok, %{path | child: {ref, pid}}}

        other ->
          {:error, inspect(other)}
      end
    end

    @impl true
    def stop(%{child: nil} = path, _ctx), do: path

    def stop(%{child: {ref, pid}} = path, ctx) do
      Process.demonitor(ref, [:flush])
      _ = DynamicSupervisor.terminate_child(ctx.workers, pid)
      %{path | child: nil}
    end

    @impl true
    def running?(path), do: path.child != nil

    @impl true
    def exiting?(_path), do: false

    @impl true
    def check(_path, _ctx), do: :ok

    @impl true
    def owns?(%{child: {ref, _}}, ref), do: true
    def owns?(_path, _ref), do: false

    @impl true
    def exited(path, reason), do: {"the fake path ended: #{inspect(reason)}", %{path | child: nil}}

    @impl true
    def foreign_event?(_path, _event), do: false

    @impl true
    def describe(:starting, provider), do: "the fake path starts for #{provider.apn}"
    def describe(:up, event), do: "the fake link is up at #{:inet.ntoa(event.local)}"
    def describe(:down, _), do: "the fake link went down"
    def describe(:timeout, s), do: "the fake link did not come up in #{s} s"
    def describe(:start_failed, reason), do: "the fake path did not start: #{reason}"
  end

  setup do
    Application.put_env(:vintage_net_cellular, :fake_path_test, self())
    on_exit(fn -> Application.delete_env(:vintage_net_cellular, :fake_path_test) end)
    World.setup_e2e(env: [data_path: FakePath])
  end

  @state ["interface", "ppp0", "mobile", "state"]
  @reason ["interface", "ppp0", "mobile", "reason"]

  test "the manager starts, watches and restarts a data path it knows only by its behaviour", %{world: world} do
    world = World.add_modem(world, :m1, args: ["--provisioned", "internet"])

    config = %{type: VintageNetCellular, vintage_net_cellular: %{service_providers: [%{apn: "internet"}]}}
    assert :ok = VintageNet.configure("ppp0", config)

    assert_receive {:fake_started, first, "internet"}, 20_000
    VintageNet.Double.await(@state, :connected, 10_000)
    assert VintageNet.get(@reason) == "the fake link is up at 10.9.8.7"

    # The AT side is untouched: the modem answers, and no pppd ever ran.
    assert {:ok, _} = VintageNetCellular.at("ppp0", "AT")
    assert World.received(world, :m1, "ppp") == []

    # Its process dies: the manager hears it through owns?/exited and starts
    # the data path again after the backoff.
    Process.exit(first, :kill)
    VintageNet.Double.await(@reason, &(is_binary(&1) and &1 =~ "the fake path ended: :killed"), 10_000)
    assert_receive {:fake_started, second, "internet"}, 20_000
    assert second != first
    VintageNet.Double.await(@state, :connected, 10_000)

    assert :ok = VintageNet.deconfigure("ppp0")
  end
end

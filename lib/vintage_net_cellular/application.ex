defmodule VintageNetCellular.Application do
  @moduledoc false
  use Application

  @impl Application
  def start(_type, _args) do
    children = [
      # Which interface has claimed which modem (by USB path and tty). A key
      # table, not a modem manager: every interface runs its own processes.
      {Registry, keys: :unique, name: VintageNetCellular.Claims},
      # Each interface's own processes by {ifname, role} (AT port, connection
      # manager...), so an interface finds its AT port without a singleton.
      {Registry, keys: :unique, name: VintageNetCellular.Names}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: VintageNetCellular.Supervisor)
  end
end

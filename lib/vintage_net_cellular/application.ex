defmodule VintageNetCellular.Application do
  @moduledoc false
  use Application

  @impl Application
  def start(_type, _args) do
    # Redaction by value of configured secrets in every log event (also
    # installed by to_raw_config/3, which may run before this at boot).
    VintageNetCellular.Secrets.install_filter()

    children = [
      # Which interface has claimed which modem (by USB path and tty). A key
      # table, not a modem manager: every interface runs its own processes.
      # VintageNet may start interfaces before this application is up (at boot,
      # from persisted configs): each connection manager waits for this
      # registry rather than failing. Nothing else here is needed by them.
      {Registry, keys: :unique, name: VintageNetCellular.Claims},
      # Kernel uevents, so a modem plugged in is claimed at once rather than
      # at the next sysfs poll. Subscriptions live in their own registry and
      # outlive a restart of the listener; the managers poll regardless.
      {Registry, keys: :unique, name: VintageNetCellular.Uevents.Subscribers},
      VintageNetCellular.Uevents
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: VintageNetCellular.Supervisor)
  end
end

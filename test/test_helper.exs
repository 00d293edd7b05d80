{:ok, _} = VintageNet.Double.start()
# The double saves configurations under a per-VM directory in /tmp, as
# vintage_net does across reboots; remove it when the suite ends.
ExUnit.after_suite(fn _ ->
  VintageNet.Double.Persistence.clear()
  File.rm_rf(Application.fetch_env!(:vintage_net_cellular, :state_dir))
end)

ExUnit.start(capture_log: true)

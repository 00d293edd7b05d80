{:ok, _} = VintageNet.Double.start()
# The double saves configurations under a per-VM directory in /tmp, as
# vintage_net does across reboots; remove it when the suite ends.
ExUnit.after_suite(fn _ -> VintageNet.Double.Persistence.clear() end)
ExUnit.start(capture_log: true)

import Config

# Where discovery looks for sysfs and device nodes. Tests and the demo point
# these at fixture trees; on a device they are the real ones.
config :vintage_net_cellular,
  sysfs_root: "/sys",
  dev_root: "/dev"

# The demo and the tests keep the SIM PIN ledger (VintageNetCellular.PinLedger)
# in a per-VM directory under /tmp, not beside /root/vintage_net.
if config_env() in [:dev, :test] do
  config :vintage_net_cellular,
    state_dir: Path.join(System.tmp_dir!(), "vintage_net_cellular_state.#{System.pid()}")
end

if config_env() == :test do
  config :logger, level: :warning
end

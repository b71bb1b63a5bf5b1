"""Looking inside trained and fresh nets: probes (gradient norms, layer responses), attributions
(Captum), gradient profiles, and the pretrained ImageNet classifiers to explain photos with."""
